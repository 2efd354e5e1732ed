import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TollgateCore

/// The aggregator's HTTP API, for the `tollgate` CLI and dashboards:
/// `GET /v1/usage?since=UNIX&until=UNIX&by=key,model`, `GET /healthz`, `GET /metrics`, and
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

/// Maps a request to a response; pure apart from the store read, so tests call it directly.
struct APIRouter: Sendable {
    let store: UsageStore
    let metrics: MetricsRegistry
    /// Nil when budgets are not served (then `/v1/budgets` is 404).
    var budgets: BudgetBoard? = nil
    /// Required on every `/v1/budgets` request when set.
    var token: APIToken? = nil

    struct Response {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    func respond(method: HTTPMethod, uri: String, authorization: String? = nil, body: Data = Data()) -> Response {
        let components = URLComponents(string: uri)
        let path = components?.path ?? uri
        let query = Dictionary((components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        switch (method, path) {
        case (.GET, "/healthz"):
            return Response(status: .ok, contentType: "text/plain", body: "ok\n")
        case (.GET, "/metrics"):
            return Response(status: .ok, contentType: "text/plain; version=0.0.4", body: metrics.prometheusText())
        case (.GET, "/v1/usage"):
            return usage(query)
        case (_, _) where path == "/v1/budgets" || path.hasPrefix("/v1/budgets/"):
            return budgetRoute(method: method, path: path, authorization: authorization, body: body)
        default:
            return error(.notFound, "no such endpoint: \(method) \(path)")
        }
    }

    private func usage(_ query: [String: String]) -> Response {
        let now = Int64(Date().timeIntervalSince1970)
        guard let since = Int64(query["since"] ?? "0"), let until = Int64(query["until"] ?? String(now + 60)) else {
            return error(.badRequest, "since and until must be Unix times in seconds")
        }
        let dimensions: [UsageDimension]
        do {
            dimensions = try UsageDimension.parseList(query["by"] ?? "key,model")
        } catch {
            return self.error(.badRequest, "\(error)")
        }
        do {
            // Cells are per minute: a window includes every minute it touches.
            let groups = try store.query(fromMinute: floorDiv(since, 60), toMinute: floorDiv(until, 60) + 1, groupBy: dimensions)
            let rows = groups.map { UsageRow($0, by: dimensions) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(status: .ok, contentType: "application/json", body: String(decoding: try encoder.encode(rows), as: UTF8.self))
        } catch {
            metrics.increment("tollgate_api_errors_total")
            return self.error(.internalServerError, "query failed: \(error)")
        }
    }

    func error(_ status: HTTPResponseStatus, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Response(status: status, contentType: "application/json", body: body)
    }

    private func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }
}

final class APIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: APIRouter
    private let pool: NIOThreadPool
    private var head: HTTPRequestHead?
    private var body = Data()
    private var bodyTooLarge = false
    /// Budget definitions are small; anything bigger is a mistake or an attack.
    static let maxBodyBytes = 64 * 1024

    init(router: APIRouter, pool: NIOThreadPool) {
        self.router = router
        self.pool = pool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
            bodyTooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let router = router
            if bodyTooLarge {
                write(router.error(.payloadTooLarge, "request body over \(Self.maxBodyBytes) bytes"), keepAlive: false, context: context)
                return
            }
            let body = body
            self.body = Data()
            let authorization = head.headers.first(name: "authorization")
            pool.runIfActive(eventLoop: context.eventLoop) {
                router.respond(method: head.method, uri: head.uri, authorization: authorization, body: body)
            }.whenComplete { [self] result in
                let response = (try? result.get()) ?? APIRouter.Response(status: .serviceUnavailable, contentType: "text/plain", body: "shutting down\n")
                write(response, keepAlive: head.isKeepAlive, context: context)
            }
        }
    }

    private func write(_ response: APIRouter.Response, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.utf8.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: response.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
