import Foundation
import NIOCore
import NIOHTTP1

/// Collects one HTTP request at a time, hands it to the router and writes the answer.
///
/// All protocol logic lives in `MockRouter`; this handler only buffers the body, enforces
/// the size limit and frames the response: whole with a content-length, or streamed with
/// chunked transfer encoding, one flush per event.
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
    /// The next event of a paced stream, cancelled if the client goes away first.
    private var nextPiece: Scheduled<Void>?
    /// The stream being sent: billed in full at its end, or for what was generated if the
    /// connection closes first.
    private var streaming: (billing: StreamBilling, sent: Int, total: Int)?

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

    func channelInactive(context: ChannelHandlerContext) {
        nextPiece?.cancel()
        nextPiece = nil
        if let (billing, sent, total) = streaming {
            // The provider notices the client is gone when its connection closes, and stops.
            streaming = nil
            router.ledger.recordAbort(billing.billed(afterSending: sent), eventsSent: sent, eventsTotal: total, closedAt: Date())
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func refuseOversized(context: ChannelHandlerContext, head: HTTPRequestHead) {
        state = .discarding
        write(router.respondToOversizedBody(path: MockHTTPRequest.path(ofURI: head.uri)), version: head.version, keepAlive: false, context: context)
    }

    private func write(_ response: MockHTTPResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        switch response.body {
        case .complete(let text):
            let body = context.channel.allocator.buffer(string: text)
            headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
            headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            finish(keepAlive: keepAlive, context: context)
        case .streamed(let pieces, let pause, let billing):
            streaming = (billing, 0, pieces.count)
            // HTTP/1.0 has no chunked encoding: the end of the stream is the end of the connection.
            let chunked = version.major > 1 || (version.major == 1 && version.minor >= 1)
            let keepAlive = keepAlive && chunked
            if chunked { headers.replaceOrAdd(name: "transfer-encoding", value: "chunked") }
            headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            send(pieces[...], pause: pause, keepAlive: keepAlive, context: context)
        }
    }

    /// Writes and flushes the pieces one by one: all at once when `pause` is zero, otherwise
    /// one per scheduled task so that each arrives at the client on its own.
    private func send(_ pieces: ArraySlice<String>, pause: TimeAmount, keepAlive: Bool, context: ChannelHandlerContext) {
        var remaining = pieces
        while let piece = remaining.popFirst() {
            guard context.channel.isActive else { return }
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: piece)))), promise: nil)
            streaming?.sent += 1
            if pause > .zero, !remaining.isEmpty {
                let bound = NIOLoopBound((self, context, remaining), eventLoop: context.eventLoop)
                nextPiece = context.eventLoop.scheduleTask(in: pause) {
                    let (handler, context, rest) = bound.value
                    handler.nextPiece = nil
                    handler.send(rest, pause: pause, keepAlive: keepAlive, context: context)
                }
                return
            }
        }
        finish(keepAlive: keepAlive, context: context)
    }

    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        if let (billing, _, _) = streaming {
            streaming = nil
            router.ledger.record(billing.request)
        }
        let sent = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            sent.whenComplete { _ in context.close(promise: nil) }
        }
    }
}
