import NIOCore
import TollgateHTTP1
import NIOHTTP1
import NIOPosix
import NIOSSL
import TollgateCore

/// Answers `CONNECT host:port` (how HTTPS_PROXY clients open a connection): a provider
/// host is intercepted (TLS terminated with the agent's leaf certificate, then every
/// request on it metered by the proxy handler), any other host is tunnelled blind or
/// refused, as `intercept.other_hosts` says. Every other request passes through untouched.
final class ConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestFramer.Part
    typealias InboundOut = HTTPRequestFramer.Part
    typealias OutboundOut = ByteBuffer

    private enum Decision {
        case intercept(InterceptedOrigin)
        case tunnel(HostPort)
        case refuse(HTTPResponseStatus, code: String, message: String)
    }

    private let services: ProxyServices
    /// Set between a CONNECT head and its end.
    private var pending: Decision?

    init(services: ProxyServices) {
        self.services = services
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (part, pending) {
        case (.head(let head), nil) where head.method == .CONNECT:
            pending = decide(target: head.target)
        case (.body, .some):
            break  // a CONNECT has no body worth reading
        case (.end, .some(let decision)):
            pending = nil
            act(on: decision, context: context)
        default:
            context.fireChannelRead(data)
        }
    }

    private func decide(target: String) -> Decision {
        guard let requested = HostPort(target), requested.port > 0 else {
            return .refuse(.badRequest, code: "invalid_connect_target", message: "Tollgate agent: CONNECT needs host:port, got \"\(target)\"")
        }
        let policy = services.config.intercept
        let host = requested.host.lowercased().trimmingSuffix(".")
        if let route = policy.route(forHost: host) {
            guard services.leafCertificates != nil else {
                // Tunnelling it instead would let provider traffic past the meter unseen.
                return .refuse(.badGateway, code: "interception_unavailable",
                               message: "Tollgate agent: \(host) is a provider host but the agent has no usable CA to intercept it; see its log and `tollgate-agent ca init`")
            }
            return .intercept(InterceptedOrigin(route: route, upstream: UpstreamURL(scheme: "https", host: host, port: requested.port, basePath: "")))
        }
        guard policy.otherHosts == .tunnel else {
            return .refuse(.forbidden, code: "host_not_allowed",
                           message: "Tollgate agent: \(host) is not a provider host and intercept.other_hosts is deny")
        }
        return .tunnel(HostPort(host: host, port: requested.port))
    }

    private func act(on decision: Decision, context: ChannelHandlerContext) {
        switch decision {
        case .intercept(let origin):
            intercept(origin, context: context)
        case .tunnel(let target):
            tunnel(to: target, context: context)
        case .refuse(let status, let code, let message):
            services.metrics.connects("refused").increment()
            refuse(ProviderErrorResponse(status: status, code: code, message: message), context: context)
        }
    }

    // MARK: Interception

    private func intercept(_ origin: InterceptedOrigin, context: ChannelHandlerContext) {
        let tls: NIOSSLContext
        do {
            tls = try services.leafCertificates!.context(forHost: origin.upstream.host)
        } catch {
            services.logger.error("cannot mint a certificate for \(origin.upstream.host): \(error)")
            refuse(ProviderErrorResponse(status: .badGateway, code: "interception_unavailable",
                                         message: "Tollgate agent: cannot mint a certificate for \(origin.upstream.host)"), context: context)
            return
        }
        let channel = context.channel
        ProxyPipeline.removeHTTPDecoder(from: channel).whenComplete { [services] result in
            do {
                try result.get()
                context.writeAndFlush(NIOAny(ProxyPipeline.connectionEstablished(allocator: channel.allocator)), promise: nil)
                try ProxyPipeline.switchToTLS(channel, context: tls)
                services.metrics.connects("intercepted").increment()
                context.fireUserInboundEventTriggered(origin)
            } catch {
                services.logger.error("cannot switch a CONNECT to TLS: \(error)")
                channel.close(promise: nil)
            }
        }
    }

    // MARK: Tunnel

    private func tunnel(to target: HostPort, context: ChannelHandlerContext) {
        let dial = services.config.intercept.connectTo[target] ?? target
        let channel = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(services.config.connectTimeout))
            .connect(host: dial.host, port: dial.port)
            .whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    services.metrics.connects("unreachable").increment()
                    refuse(ProviderErrorResponse(status: .badGateway, code: "upstream_unreachable",
                                                 message: "Tollgate agent: cannot reach \(target): \(error)"), context: context)
                case .success(let peer):
                    splice(channel, context: context, with: peer)
                }
            }
    }

    /// Replaces this connection's whole pipeline with a relay to `peer`.
    private func splice(_ channel: Channel, context: ChannelHandlerContext, with peer: Channel) {
        ProxyPipeline.removeHTTPDecoder(from: channel).whenComplete { [services] result in
            do {
                try result.get()
                context.writeAndFlush(NIOAny(ProxyPipeline.connectionEstablished(allocator: channel.allocator)), promise: nil)
                for name in ["idle", "proxy", "connect"] {
                    channel.pipeline.syncOperations.removeHandler(name: name, promise: nil)
                }
                let (near, far) = TunnelRelay.pair()
                try channel.pipeline.syncOperations.addHandler(near)
                try peer.pipeline.syncOperations.addHandler(far)
                services.metrics.connects("tunnelled").increment()
            } catch {
                services.logger.error("cannot open a tunnel: \(error)")
                channel.close(promise: nil)
                peer.close(promise: nil)
            }
        }
    }

    private func refuse(_ error: ProviderErrorResponse, context: ChannelHandlerContext) {
        respondWithError(error, keepAlive: false, context: context)
    }
}
