import Foundation
import NIOCore
import TollgateHTTP1
import NIOHTTP1
import NIOPosix
import NIOSSL
import TollgateCore

/// How the proxy opens a connection to a provider: the seam between a client connection and
/// the network. The agent dials (`UpstreamConnector`); unit tests hand the proxy embedded
/// channels instead. The returned channel's pipeline must end in `relay`, and it must live
/// on `eventLoop`, the client connection's own.
protocol UpstreamConnecting: Sendable {
    func connect(to upstream: UpstreamURL, on eventLoop: EventLoop, services: ProxyServices,
                 relay: UpstreamResponseRelay) -> EventLoopFuture<Channel>
}

/// Opens a connection to a provider on the client connection's own event loop, so the
/// two channels of one exchange never need to hop threads to talk to each other.
struct UpstreamConnector: UpstreamConnecting {
    func connect(to upstream: UpstreamURL, on eventLoop: EventLoop, services: ProxyServices,
                 relay: UpstreamResponseRelay) -> EventLoopFuture<Channel> {
        // `intercept.connect_to` changes where we dial, never the name TLS verifies.
        let dial = services.config.intercept.connectTo[HostPort(host: upstream.host.lowercased(), port: upstream.port)]
            ?? HostPort(host: upstream.host, port: upstream.port)
        return ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(services.config.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if upstream.usesTLS {
                        let isAddress = IPv4Address(upstream.host) != nil || upstream.host.contains(":")
                        try pipeline.addHandler(NIOSSLClientHandler(context: services.upstreamTLS,
                                                                    serverHostname: isAddress ? nil : upstream.host))
                    }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(services.config.upstreamIdleTimeout)))
                    try pipeline.addHandler(relay)
                }
            }
            .connect(host: dial.host, port: dial.port)
    }
}

/// Reads the provider's responses off the connection's bytes (`HTTPResponseFramer`) and
/// hands each event to the proxy handler that owns the current exchange (on the same event
/// loop). A pooled connection's relay has no owner while idle and is attached to the next
/// exchange that takes the connection.
final class UpstreamResponseRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private weak var owner: ProxyHandler?
    private var framer = HTTPResponseFramer()
    private var ended = false
    /// Bytes arrived that belong to no response: the connection must not be reused.
    private var spoiled = false

    init(owner: ProxyHandler) {
        self.owner = owner
    }

    /// Whether the connection may go back to the pool once its response ended.
    var isReusable: Bool { !spoiled && framer.isIdle }

    /// Starts an exchange; `isHEAD` because a response to HEAD has no body, whatever its
    /// length says.
    func attach(_ owner: ProxyHandler, isHEAD: Bool) {
        self.owner = owner
        ended = false
        framer.expectsNoBody = isHEAD
    }

    func detach() {
        owner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        do {
            while let event = try framer.read(&input) {
                guard !ended, let owner else {
                    spoiled = true
                    return
                }
                if case .end = event { ended = true }
                owner.upstreamDidReceive(event)
            }
        } catch {
            fail(error, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        owner?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !ended else { return }
        do {
            if let event = try framer.readEndOfInput(), let owner {
                ended = true
                owner.upstreamDidReceive(event)
                return
            }
            fail(UpstreamClosedError(), context: context)
        } catch {
            fail(error, context: context)
        }
    }

    /// Silence from the provider: mid-response it is a failure; while pooled, the
    /// connection is simply closed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        fail(UpstreamTimeoutError(), context: context)
    }

    private func fail(_ error: Error, context: ChannelHandlerContext) {
        spoiled = true
        let wasOpen = !ended
        ended = true  // before the owner runs: it may close this channel, which calls back here
        if wasOpen { owner?.upstreamDidFail(error) }
        context.close(promise: nil)
    }
}

struct UpstreamTimeoutError: Error, CustomStringConvertible {
    var description: String { "the provider sent nothing for limits.upstream_idle_timeout_ms" }
}

struct UpstreamClosedError: Error, CustomStringConvertible {
    var description: String { "the provider closed the connection before the response ended" }
}

private struct IPv4Address {
    init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
    }
}
