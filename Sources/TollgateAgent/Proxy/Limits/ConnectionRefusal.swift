import NIOCore

/// The whole pipeline of a connection accepted over `limits.max_connections`: it answers a
/// 503 at once (before reading a request: whatever the client sends gets the same answer),
/// then stops writing and reads until the client hangs up. Closing outright with the
/// client's request unread would make the kernel reset the connection, and a reset can
/// destroy the 503 before the client reads it.
final class ConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How long a refused client may keep the socket after its answer: long enough to read
    /// a few hundred bytes, short enough that a flood of refused connections does not hold
    /// many more descriptors than the cap (most clients hang up as soon as they read it).
    static let lingerTime = TimeAmount.seconds(1)

    private let maxConnections: Int
    private var answered = false

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context: context)
        context.fireChannelActive()
    }

    private func answer(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let error = ProviderErrorResponse(
            status: .serviceUnavailable, code: "too_many_connections",
            message: "Tollgate agent already has limits.max_connections (\(maxConnections)) client connections open; retry shortly, reuse connections, or raise limits.max_connections",
            provider: nil, headers: [("retry-after", "1")])
        let bytes = LocalResponse.closing(error, allocator: context.channel.allocator)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
        channel.eventLoop.scheduleTask(in: Self.lingerTime) {
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
