import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One API connection: collects a request (bounded), runs it on the query pool, writes
/// the answer.
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
            let actor = head.headers.first(name: "x-tollgate-actor")
            // The answer is written back on this connection's event loop, where the
            // handler and its context live.
            let connection = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            pool.runIfActive(eventLoop: context.eventLoop) {
                router.respond(method: head.method, uri: head.uri, authorization: authorization, actor: actor, body: body)
            }.whenComplete { result in
                let response = (try? result.get()) ?? APIRouter.Response(status: .serviceUnavailable, contentType: "text/plain", body: "shutting down\n")
                connection.value.handler.write(response, keepAlive: head.isKeepAlive, context: connection.value.context)
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
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
