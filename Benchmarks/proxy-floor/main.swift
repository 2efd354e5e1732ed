import NIOCore
import NIOHTTP1
import NIOPosix

// What a SwiftNIO proxy costs before it does anything a meter needs: the ceilings the
// agent's proxy figures are read against in scripts/bench-proxy.sh.
//
//   proxy-floor bytes LISTEN_PORT UPSTREAM_PORT   relays bytes both ways, one upstream
//                                                 connection per client connection
//   proxy-floor http LISTEN_PORT UPSTREAM_PORT    decodes each request and response with
//                                                 NIO's HTTP/1 codecs and re-encodes it,
//                                                 stripping a first path segment
//                                                 (`/openai/v1/…` → `/v1/…`), as the
//                                                 agent's base-URL mode does
//
// Loopback only, two event loops (the agent's count on this machine); no limits, no
// errors handled: a yardstick, not a proxy.

/// Bytes from one channel written to the other; flushed once per read.
final class ByteRelay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var peer: Channel?
    private var early: [ByteBuffer] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let peer { peer.write(bytes, promise: nil) } else { early.append(bytes) }
    }

    func channelReadComplete(context: ChannelHandlerContext) { peer?.flush() }
    func channelInactive(context: ChannelHandlerContext) { peer?.close(promise: nil) }

    func connect(to peer: Channel) {
        self.peer = peer
        for bytes in early { peer.write(bytes, promise: nil) }
        early = []
        peer.flush()
    }
}

/// A decoded request, re-encoded towards the provider.
final class RequestRelay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    let upstream: Channel
    init(upstream: Channel) { self.upstream = upstream }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            head.uri = "/" + head.uri.split(separator: "/", maxSplits: 1).dropFirst().joined()
            head.headers.remove(name: "connection")
            upstream.write(HTTPClientRequestPart.head(head), promise: nil)
        case .body(let body): upstream.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        case .end: upstream.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
    }
}

/// A decoded response, re-encoded towards the client.
final class ResponseRelay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let client: Channel
    init(client: Channel) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            head.headers.remove(name: "connection")
            client.write(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: head.status, headers: head.headers)), promise: nil)
        case .body(let body): client.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        case .end: client.write(HTTPServerResponsePart.end(nil), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) { client.flush() }
}

let arguments = CommandLine.arguments
guard arguments.count == 4, ["bytes", "http"].contains(arguments[1]), let port = Int(arguments[2]), let upstreamPort = Int(arguments[3]) else {
    print("usage: proxy-floor bytes|http LISTEN_PORT UPSTREAM_PORT")
    exit(2)
}
let decodesHTTP = arguments[1] == "http"
let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { client in
        let toClient = ByteRelay()
        let upstream = ClientBootstrap(group: client.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    if decodesHTTP {
                        try upstream.pipeline.syncOperations.addHTTPClientHandlers()
                        try upstream.pipeline.syncOperations.addHandler(ResponseRelay(client: client))
                    } else {
                        toClient.peer = client
                        try upstream.pipeline.syncOperations.addHandler(toClient)
                    }
                }
            }
            .connect(host: "127.0.0.1", port: upstreamPort)
        return upstream.flatMapThrowing { upstream in
            if decodesHTTP {
                try client.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
                try client.pipeline.syncOperations.addHandler(RequestRelay(upstream: upstream))
            } else {
                let toUpstream = ByteRelay()
                try client.pipeline.syncOperations.addHandler(toUpstream)
                toUpstream.connect(to: upstream)
            }
        }
    }
    .bind(host: "127.0.0.1", port: port).wait()
print("proxy-floor \(arguments[1]) listening on 127.0.0.1:\(port), upstream 127.0.0.1:\(upstreamPort)")
try server.closeFuture.wait()
