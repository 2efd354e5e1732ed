import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP server on 127.0.0.1 (port 0) that records POST bodies and answers the first
/// `failures` requests with 500, to exercise the webhook's retries.
final class WebhookRecorder: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let state: NIOLockedValueBox<(bodies: [Data], failuresLeft: Int, attempts: Int)>
    private var channel: Channel?

    init(failures: Int = 0) {
        state = NIOLockedValueBox(([], failures, 0))
    }

    func start() throws -> URL {
        let state = state
        let channel = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        self.channel = channel
        return URL(string: "http://127.0.0.1:\(channel.localAddress!.port!)/hook")!
    }

    var bodies: [Data] { state.withLockedValue { $0.bodies } }
    var attempts: Int { state.withLockedValue { $0.attempts } }

    func stop() {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: NIOLockedValueBox<(bodies: [Data], failuresLeft: Int, attempts: Int)>
        var body = Data()

        init(state: NIOLockedValueBox<(bodies: [Data], failuresLeft: Int, attempts: Int)>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: body = Data()
            case .body(var buffer): body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            case .end:
                let body = body
                let fail = state.withLockedValue { state -> Bool in
                    state.attempts += 1
                    if state.failuresLeft > 0 { state.failuresLeft -= 1; return true }
                    state.bodies.append(body)
                    return false
                }
                var headers = HTTPHeaders()
                headers.add(name: "content-length", value: "0")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: fail ? .internalServerError : .ok, headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
