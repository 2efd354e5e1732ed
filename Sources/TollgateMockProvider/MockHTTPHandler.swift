import NIOCore
import NIOHTTP1

/// Collects one HTTP request at a time, hands it to the router and writes the answer.
///
/// All protocol logic lives in `MockRouter`; this handler only buffers the body, enforces
/// the size limit and frames the response with the right keep-alive headers.
final class MockHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case reading(HTTPRequestHead, ByteBuffer)
        /// An oversized body was refused; the rest of it is dropped while the connection closes.
        case discarding
    }

    private let router: MockRouter
    private let maxBodyBytes: Int
    private var state = State.idle

    init(router: MockRouter, maxBodyBytes: Int) {
        self.router = router
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Refusing on the declared length spares reading megabytes we will not use.
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > maxBodyBytes {
                refuseOversized(context: context, head: head)
            } else {
                state = .reading(head, context.channel.allocator.buffer(capacity: 0))
            }
        case .body(var chunk):
            guard case .reading(let head, var body) = state else { return }
            guard body.readableBytes + chunk.readableBytes <= maxBodyBytes else {
                refuseOversized(context: context, head: head)
                return
            }
            state = .idle  // drop our reference first so the append does not copy the buffer
            body.writeBuffer(&chunk)
            state = .reading(head, body)
        case .end:
            guard case .reading(let head, var body) = state else {
                state = .idle
                return
            }
            state = .idle
            let request = MockHTTPRequest(
                method: head.method, uri: head.uri, headers: head.headers,
                body: body.readBytes(length: body.readableBytes) ?? []
            )
            write(router.respond(to: request), version: head.version, keepAlive: head.isKeepAlive, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func refuseOversized(context: ChannelHandlerContext, head: HTTPRequestHead) {
        state = .discarding
        write(router.respondToOversizedBody(path: MockHTTPRequest.path(ofURI: head.uri)), version: head.version, keepAlive: false, context: context)
    }

    private func write(_ response: MockHTTPResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
        body.writeString(response.body)

        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")

        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let sent = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            sent.whenComplete { _ in context.close(promise: nil) }
        }
    }
}
