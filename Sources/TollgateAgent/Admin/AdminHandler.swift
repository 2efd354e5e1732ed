import NIOCore
import NIOHTTP1
import NIOPosix
import TollgateCore

/// The agent's admin listener (loopback by default): `/healthz`, `/metrics` (Prometheus
/// text) and `/status` (JSON). Kept off the proxy port so exposing the proxy to a pod
/// network never exposes the agent's internals.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: AgentMetrics
    private let status: @Sendable () -> String
    /// What is wrong, if anything (the spool refusing writes): `/healthz` says it in its body.
    private let problem: @Sendable () -> String?
    private var head: HTTPRequestHead?

    init(metrics: AgentMetrics, status: @escaping @Sendable () -> String, problem: @escaping @Sendable () -> String? = { nil }) {
        self.metrics = metrics
        self.status = status
        self.problem = problem
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, contentType, body): (HTTPResponseStatus, String, String) = switch (head.method, head.uri) {
            // 200 even when degraded: this is a liveness answer, and restarting the agent
            // would not free the disk but would discard usage held in memory. Alert on
            // tollgate_agent_spool_writable, or read the body.
            case (.GET, "/healthz"): (.ok, "text/plain", problem().map { "degraded: \($0)\n" } ?? "ok\n")
            case (.GET, "/metrics"): (.ok, MetricsExposition.contentType, metrics.exposition())
            case (.GET, "/status"): (.ok, "application/json", self.status())
            default: (.notFound, "text/plain", "not found; try /healthz, /metrics or /status\n")
            }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: String(body.utf8.count))
            if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
