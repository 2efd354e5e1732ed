import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle
import TollgateCore
import TollgateProviders

/// The running agent: the proxy listener plus the usage shipper behind it.
///
/// Run it in a `ServiceGroup` (`tollgate-agent run` does, with SIGTERM and SIGINT as its
/// graceful-shutdown signals), or drive it with `start()` and `stop()`. Either way, shutdown
/// goes in this order: stop accepting connections → wait for the requests in flight (up
/// to `drain_timeout_ms`; the wait ends when the last one does) → flush their usage to the
/// aggregator → close the quota channel and the event loops.
public final class Agent: Service, Sendable {
    private let config: AgentConfig
    private let logger: Logger
    /// Drain and shipping timeouts, quota freshness and windows all go by it.
    private let clock: ServiceClock
    private let group: MultiThreadedEventLoopGroup
    private let metrics = AgentMetrics(registry: PrometheusCollectorRegistry())
    private let pipeline: UsagePipeline
    private let inFlight = InFlightRequests()
    private let quotaBook: QuotaBook
    private let quotaSubscriber: QuotaSubscriber
    /// The bound listeners; `start` fills it, `stop` empties it (both from one caller at a time).
    private let listeners = NIOLockedValueBox<[Channel]>([])

    public init(config: AgentConfig, logger: Logger, clock: ServiceClock = .system) throws {
        self.config = config
        self.logger = logger
        self.clock = clock
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        // The fleet reports read the book's freshness, and the book needs the pipeline's
        // agent ID (its watermark in each quota update): the reports reach it through a box.
        let bookForReports = NIOLockedValueBox<QuotaBook?>(nil)
        pipeline = try UsagePipeline(config: config, metrics: metrics, logger: logger, clock: clock) {
            guard let book = bookForReports.withLockedValue({ $0 }) else { return .none }
            return book.view(staleAfter: config.quota.staleAfter)
        }
        let quotaBook = QuotaBook(agentID: pipeline.agentID, clock: clock, prices: config.prices)
        self.quotaBook = quotaBook
        bookForReports.withLockedValue { $0 = quotaBook }
        pipeline.onBatchCut { seq, tickets in quotaBook.cut(seq: seq, tickets: tickets) }
        pipeline.carryLeases(.of(quotaBook, metrics: metrics))
        quotaSubscriber = try QuotaSubscriber(
            settings: QuotaSubscriber.Settings(endpoint: config.resolvedQuotaEndpoint, security: config.aggregatorSecurity,
                                               firstSnapshotTimeout: config.quota.firstSnapshotTimeout, staleAfter: config.quota.staleAfter),
            book: quotaBook, metrics: metrics, logger: logger)
    }

    public var agentID: String { pipeline.agentID }

    /// The addresses actually bound (ports resolved when configured as 0).
    public struct Listeners: Sendable {
        public var proxy: HostPort
        public var admin: HostPort
    }

    /// Starts listening and shipping.
    @discardableResult
    public func start() throws -> Listeners {
        let services = ProxyServices(
            config: config, pipeline: pipeline, metrics: metrics, inFlight: inFlight,
            connections: ConnectionLimiter(maxConnections: config.maxConnections, gauge: metrics.proxyConnections),
            bodyBudget: RequestBodyBudget(maxBytes: config.maxBufferedBytes, gauge: metrics.proxyBufferedBytes),
            upstreamPool: UpstreamPool(),
            meter: ExchangeMeter(prices: config.prices),
            keys: CallerKeyCache(identifier: KeyIdentifier(orgSecret: config.orgSecret)),
            upstreamTLS: try Self.upstreamTLSContext(config.intercept),
            leafCertificates: Self.leafCertificates(config: config, clock: clock, logger: logger),
            gate: QuotaGate(book: quotaBook, settings: config.quota, prices: config.prices),
            clock: clock, logger: logger)
        pipeline.start()
        quotaSubscriber.start()
        let proxy = try listen(on: config.listen) { channel in
            try ProxyPipeline.configure(channel, services: services)
        }
        let metrics = metrics
        let status: @Sendable () -> String = { [pipeline, quotaBook, config] in
            AgentStatus(agentID: pipeline.agentID, shipper: pipeline.shipperStatus,
                        quota: QuotaStatus(book: quotaBook, settings: config.quota),
                        policies: PolicyStatus(book: quotaBook.policies)).json()
        }
        let problem: @Sendable () -> String? = { [pipeline] in pipeline.spoolProblem }
        let admin = try listen(on: config.adminListen) { channel in
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(AdminHandler(metrics: metrics, status: status, problem: problem))
        }
        logger.info("tollgate-agent \(agentID) proxying on http://\(proxy), admin on http://\(admin)")
        return Listeners(proxy: proxy, admin: admin)
    }

    private func listen(on address: HostPort, handler: @escaping @Sendable (Channel) throws -> Void) throws -> HostPort {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // TCP level: `.socketOption(.tcp_nodelay)` is SOL_SOCKET option 1, SO_DEBUG, which
            // needs CAP_NET_ADMIN; as the unprivileged `tollgate` user every accepted
            // connection was closed (found by scripts/test-package.sh).
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try handler(channel)
                }
            }
        let channel: Channel
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            abandonStart()
            throw AgentError.cannotListen(address: address.description, reason: "\(error)")
        }
        listeners.withLockedValue { $0.append(channel) }
        return HostPort(host: address.host, port: channel.localAddress?.port ?? address.port)
    }

    /// Upstream TLS trusts the system store plus `intercept.upstream_ca_file`.
    ///
    /// Closing sends close_notify and then closes the socket without waiting for the
    /// provider's own (NIOSSL waits 5 s by default): the agent never needs it, since HTTP
    /// framing says where a response ends, and while the connection stays open after a
    /// client left, the provider goes on generating and billing tokens nobody receives.
    static func upstreamTLSContext(_ policy: InterceptPolicy) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.shutdownTimeout = .zero
        if let file = policy.upstreamCAFile {
            do {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(file))]
            } catch {
                throw AgentError.invalidUpstreamCA(path: file, reason: "\(error)")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The CA in `<state_dir>/ca`, created on first start so HTTPS_PROXY works out of the
    /// box; without it provider hosts are refused rather than tunnelled past the meter.
    static func leafCertificates(config: AgentConfig, clock: ServiceClock, logger: Logger) -> LeafCertificateCache? {
        let directory = config.certificateAuthorityDirectory
        do {
            let certificate = CertificateAuthority.path(CertificateAuthority.certificateFileName, in: directory)
            if !FileManager.default.fileExists(atPath: certificate) {
                try CertificateAuthority.create().write(to: directory)
                logger.notice("created the interception CA \(certificate); clients using HTTPS_PROXY must trust it (see `tollgate-agent ca init --help`)")
            }
            return try LeafCertificateCache(authority: CertificateAuthority.load(from: directory), clock: clock)
        } catch {
            logger.error("HTTPS interception is off: \(error)")
            return nil
        }
    }

    /// `Service`: starts, runs until the group shuts down gracefully (a signal) or is
    /// cancelled, then stops in order.
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        logger.info("shutting down: draining requests in flight, then flushing usage")
        await stop()
    }

    /// Stops accepting requests, waits up to `drain_timeout_ms` for those in flight, then
    /// flushes usage to the aggregator (what is not acknowledged stays spooled) and closes
    /// the quota channel and the event loops.
    public func stop() async {
        closeListeners()
        if await !inFlight.drained(within: config.drainTimeout, clock: clock) {
            logger.warning("closing \(inFlight.current) request(s) still in flight after drain_timeout_ms")
        }
        await pipeline.stop()
        await quotaSubscriber.stop()
        try? await group.shutdownGracefully()
    }

    /// Undoes a `start` that could not bind: nothing was accepted, so nothing to drain.
    private func abandonStart() {
        closeListeners()
        pipeline.stopAndWait()
        quotaSubscriber.stopAndWait()
        try? group.syncShutdownGracefully()
    }

    /// Closes the listening sockets: connections already accepted stay open.
    private func closeListeners() {
        for channel in listeners.withLockedValue({ channels in defer { channels = [] }; return channels }) {
            try? channel.close().wait()
        }
    }
}
