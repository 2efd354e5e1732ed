import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TollgateCore
import TollgateProviders

/// The running agent: the proxy listener plus the usage shipper behind it.
public final class Agent {
    private let config: AgentConfig
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let metrics = MetricsRegistry()
    private let pipeline: UsagePipeline
    private let inFlight = InFlightRequests()
    private var listeners: [Channel] = []

    public init(config: AgentConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        pipeline = try UsagePipeline(config: config, metrics: metrics, logger: logger)
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
            config: config, pipeline: pipeline, metrics: metrics, inFlight: inFlight, upstreamPool: UpstreamPool(),
            meter: ExchangeMeter(prices: config.prices),
            keys: KeyIdentifier(orgSecret: config.orgSecret),
            upstreamTLS: try NIOSSLContext(configuration: .makeClientConfiguration()),
            logger: logger)
        pipeline.start()
        let idle = TimeAmount.milliseconds(Int64(config.clientIdleTimeoutMilliseconds))
        let proxy = try listen(on: config.listen) { channel in
            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
            try channel.pipeline.syncOperations.addHandler(ProxyHandler(services: services))
        }
        let metrics = metrics
        let pipeline = pipeline
        let admin = try listen(on: config.adminListen) { channel in
            try channel.pipeline.syncOperations.addHandler(AdminHandler(metrics: metrics, status: { pipeline.statusJSON() }))
        }
        logger.info("tollgate-agent \(agentID) proxying on http://\(proxy), admin on http://\(admin)")
        return Listeners(proxy: proxy, admin: admin)
    }

    private func listen(on address: HostPort, handler: @escaping @Sendable (Channel) throws -> Void) throws -> HostPort {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try handler(channel)
                }
            }
        let channel: Channel
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            stop()
            throw AgentError.cannotListen(address: address.description, reason: "\(error)")
        }
        listeners.append(channel)
        return HostPort(host: address.host, port: channel.localAddress?.port ?? address.port)
    }

    /// Stops accepting requests, waits up to `drain_timeout_ms` for those in flight, then
    /// flushes usage to the aggregator (what is not acknowledged stays spooled).
    public func stop() {
        for channel in listeners { try? channel.close().wait() }
        listeners = []
        let deadline = Date().addingTimeInterval(Double(config.drainTimeoutMilliseconds) / 1000)
        while inFlight.current > 0 && Date() < deadline { usleep(10_000) }
        if inFlight.current > 0 { logger.warning("closing \(inFlight.current) request(s) still in flight after drain_timeout_ms") }
        pipeline.stop()
        try? group.syncShutdownGracefully()
    }
}
