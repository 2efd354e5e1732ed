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
    private var serverChannel: Channel?

    public init(config: AgentConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        pipeline = try UsagePipeline(config: config, metrics: metrics, logger: logger)
    }

    public var agentID: String { pipeline.agentID }

    /// Starts listening and shipping; returns the bound address (useful with port 0).
    @discardableResult
    public func start() throws -> HostPort {
        let services = ProxyServices(
            config: config, pipeline: pipeline, metrics: metrics,
            meter: ExchangeMeter(prices: config.prices),
            keys: KeyIdentifier(orgSecret: config.orgSecret),
            upstreamTLS: try NIOSSLContext(configuration: .makeClientConfiguration()),
            logger: logger)
        pipeline.start()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ProxyHandler(services: services))
                }
            }
        do {
            serverChannel = try bootstrap.bind(host: config.listen.host, port: config.listen.port).wait()
        } catch {
            pipeline.stop(drainTimeout: 0)
            throw AgentError.cannotListen(address: config.listen.description, reason: "\(error)")
        }
        let port = serverChannel?.localAddress?.port ?? config.listen.port
        let bound = HostPort(host: config.listen.host, port: port)
        logger.info("tollgate-agent \(agentID) proxying on http://\(bound) (OpenAI upstream \(config.upstreams.openai))")
        return bound
    }

    /// Stops accepting requests, lets in-flight ones finish briefly, and flushes usage.
    public func stop() {
        try? serverChannel?.close().wait()
        pipeline.stop()
        try? group.syncShutdownGracefully()
    }
}
