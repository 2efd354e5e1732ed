import NIOCore
import NIOHTTP1

/// Answers a request from the agent itself (errors, refusals, `/healthz`), for any handler
/// that writes to the client connection below the request decoder.
extension ChannelInboundHandler where OutboundOut == ByteBuffer {
    func respondWithError(_ error: ProviderErrorResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        respond(status: error.status, contentType: "application/json", body: error.body(allocator: context.channel.allocator),
                keepAlive: keepAlive, extraHeaders: error.headers, context: context)
    }

    /// Writes a whole response; without keep-alive the connection closes once it is sent.
    func respond(status: HTTPResponseStatus, contentType: String, body: ByteBuffer, keepAlive: Bool,
                 extraHeaders: [(String, String)] = [], context: ChannelHandlerContext) {
        let response = LocalResponse.bytes(status: status, contentType: contentType, body: body, keepAlive: keepAlive,
                                           extraHeaders: extraHeaders, allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(response)).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

enum LocalResponse {
    /// An agent error as a whole response that closes the connection.
    static func closing(_ error: ProviderErrorResponse, allocator: ByteBufferAllocator) -> ByteBuffer {
        bytes(status: error.status, contentType: "application/json", body: error.body(allocator: allocator), keepAlive: false,
              extraHeaders: error.headers, allocator: allocator)
    }

    /// A whole response as bytes: status line, fields, body.
    static func bytes(status: HTTPResponseStatus, contentType: String, body: ByteBuffer, keepAlive: Bool,
                      extraHeaders: [(String, String)] = [], allocator: ByteBufferAllocator) -> ByteBuffer {
        var response = allocator.buffer(capacity: 256 + body.readableBytes)
        response.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        for (name, value) in extraHeaders {
            response.writeString("\(name): \(value)\r\n")
        }
        response.writeString("content-type: \(contentType)\r\ncontent-length: \(body.readableBytes)\r\n")
        if !keepAlive { response.writeString("connection: close\r\n") }
        response.writeString("\r\n")
        response.writeImmutableBuffer(body)
        return response
    }
}
