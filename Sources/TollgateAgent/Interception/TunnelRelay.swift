import NIOCore

/// One end of a blind tunnel: what one channel reads, the other writes. Reads on a side
/// wait while the other side cannot take more, so a slow peer holds back a fast one
/// instead of growing a buffer in the agent.
final class TunnelRelay: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: TunnelRelay?
    private var context: ChannelHandlerContext?
    /// A read was asked for while the partner could not write; issued when it can.
    private var readDeferred = false

    private init() {}

    /// Two relays that forward to each other; add one to each channel.
    static func pair() -> (TunnelRelay, TunnelRelay) {
        let near = TunnelRelay()
        let far = TunnelRelay()
        near.partner = far
        far.partner = near
        return (near, far)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The partner may have wanted to read before this side existed.
        resumePartnerReads()
    }

    private func resumePartnerReads() {
        guard let partner, partner.readDeferred, context?.channel.isWritable ?? false else { return }
        partner.readDeferred = false
        partner.context?.read()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumePartnerReads()
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.context?.channel.isWritable ?? false {
            context.read()
        } else {
            readDeferred = true
        }
    }
}
