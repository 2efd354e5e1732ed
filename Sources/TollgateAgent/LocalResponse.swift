import NIOCore
import NIOHTTP1

/// Answers a request from the agent itself (errors, refusals, `/healthz`), for any handler
/// that writes HTTP responses.
extension ChannelInboundHandler where OutboundOut == HTTPServerResponsePart {
    func respondWithError(_ error: ProviderErrorResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        respond(status: error.status, contentType: "application/json", body: error.body(allocator: context.channel.allocator),
                keepAlive: keepAlive, extraHeaders: error.headers, context: context)
    }

    /// Writes a whole response; without keep-alive the connection closes once it is sent.
    func respond(status: HTTPResponseStatus, contentType: String, body: ByteBuffer, keepAlive: Bool,
                 extraHeaders: [(String, String)] = [], context: ChannelHandlerContext) {
        var headers = HTTPHeaders(extraHeaders)
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
