import NIOCore
import TollgateHTTP1
import NIOHTTP1
import NIOSSL

/// The proxy listener's channel pipeline. Requests are framed from the bytes by
/// `HTTPRequestFramer` (strictly: the client is the untrusted side); responses go out as
/// bytes the proxy handler writes itself. The decoder is named so that a `CONNECT` can take
/// it out and either put TLS underneath it (interception) or replace the whole pipeline
/// with a byte relay (tunnel).
///
///     http-decoder → idle → connect → proxy          plain HTTP (base-URL, HTTP_PROXY)
///     tls → http-decoder → idle → connect → proxy    after CONNECT to a provider host
///     tunnel relay                                   after CONNECT to any other host
///     connection refusal                             over limits.max_connections
enum ProxyPipeline {
    static let httpDecoderName = "http-decoder"

    static func configure(_ channel: Channel, services: ProxyServices) throws {
        let pipeline = channel.pipeline.syncOperations
        guard services.connections.admit(channel) else {
            services.metrics.rejectedRequests("connections").increment()
            try pipeline.addHandler(ConnectionRefusal(maxConnections: services.connections.maxConnections))
            return
        }
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestPartDecoder()), name: httpDecoderName)
        try pipeline.addHandler(IdleStateHandler(readTimeout: TimeAmount(services.config.clientIdleTimeout)), name: "idle")
        try pipeline.addHandler(ConnectHandler(services: services), name: "connect")
        try pipeline.addHandler(ProxyHandler(services: services), name: "proxy")
    }

    /// Removes the request decoder; the future completes once it has finished the read it
    /// is in, after which raw bytes may be read.
    static func removeHTTPDecoder(from channel: Channel) -> EventLoopFuture<Void> {
        channel.pipeline.syncOperations.removeHandler(name: httpDecoderName)
    }

    /// Puts TLS (with `context`, the intercepted host's leaf certificate) under a fresh
    /// request decoder, so the proxy handler reads the decrypted requests as before.
    static func switchToTLS(_ channel: Channel, context: NIOSSLContext) throws {
        let pipeline = channel.pipeline.syncOperations
        let tls = NIOSSLServerHandler(context: context)
        try pipeline.addHandler(tls, name: "tls", position: .first)
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestPartDecoder()), name: httpDecoderName, position: .after(tls))
    }

    /// The raw reply that opens a tunnel or an interception.
    static func connectionEstablished(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")
    }
}
