import Logging
import NIOSSL
import TollgateCore

/// What every proxy connection shares: config, the metering pipeline and TLS settings.
/// Immutable after start, so connections on all event loops read it without locks.
struct ProxyServices: Sendable {
    var config: AgentConfig
    var pipeline: UsagePipeline
    var metrics: AgentMetrics
    var inFlight: InFlightRequests
    /// Open client connections against `limits.max_connections`.
    var connections: ConnectionLimiter
    /// Request body bytes buffered across all connections against `limits.max_buffered_bytes`.
    var bodyBudget: RequestBodyBudget
    var upstreamPool: UpstreamPool
    var meter: ExchangeMeter
    var keys: CallerKeyCache
    /// Verifies upstream certificates against the system trust store (plus
    /// `intercept.upstream_ca_file`).
    var upstreamTLS: NIOSSLContext
    /// Leaf certificates for intercepted hosts; nil when the agent has no usable CA.
    var leafCertificates: LeafCertificateCache?
    /// Budget enforcement; nil only in tests that run the proxy without a quota channel.
    var gate: QuotaGate?
    /// The agent's clock, for what the proxy times and stamps outside NIO's own scheduling.
    var clock: ServiceClock = .system
    var logger: Logger
    /// Opens provider connections; tests replace it to serve the upstream side themselves.
    var upstreamConnector: any UpstreamConnecting = UpstreamConnector()
}
