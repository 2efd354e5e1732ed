import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TollgateCore

/// The aggregator's HTTP API, for the `tollgate` CLI and dashboards:
/// `GET /v1/usage?since=TIME&until=TIME&by=key,model&every=STEP&top=N&DIMENSION=VALUE…` (times in
/// `TimeExpression`'s grammar; each `team=ml`-style parameter filters),
/// `GET /healthz`, `GET /metrics`, and
/// the budget endpoints under `/v1/budgets` (bearer token required; see APIRouter+Budgets).
///
/// Queries scan RocksDB, so they run on a small thread pool rather than on the event loop.
final class APIServer {
    private let group: EventLoopGroup
    private let pool: NIOThreadPool
    private let router: APIRouter
    private var channel: Channel?

    init(group: EventLoopGroup, router: APIRouter) {
        self.group = group
        self.router = router
        pool = NIOThreadPool(numberOfThreads: 2)
    }

    func start(at address: HostPort) throws -> HostPort {
        pool.start()
        let router = router
        let pool = self.pool
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(APIHandler(router: router, pool: pool))
                }
            }
            .bind(host: address.host, port: address.port).wait()
        self.channel = channel
        return HostPort(host: address.host, port: channel.localAddress?.port ?? address.port)
    }

    func stop() {
        try? channel?.close().wait()
        try? pool.syncShutdownGracefully()
    }
}
