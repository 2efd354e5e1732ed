import NIOCore
import NIOHTTP1
import NIOSSL

/// The proxy listener's channel pipeline. Its HTTP handlers are named so that a `CONNECT`
/// can take them out and either put TLS underneath them (interception) or replace the
/// whole pipeline with a byte relay (tunnel).
///
///     idle → connect → proxy                        plain HTTP (base-URL, HTTP_PROXY)
///     tls → http… → idle → connect → proxy          after CONNECT to a provider host
///     tunnel relay                                  after CONNECT to any other host
enum ProxyPipeline {
    static let httpHandlerNames = ["http-encoder", "http-decoder", "http-pipelining", "http-errors"]

    static func configure(_ channel: Channel, services: ProxyServices) throws {
        let pipeline = channel.pipeline.syncOperations
        try addHTTPHandlers(to: pipeline, position: .last)
        try pipeline.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(services.config.clientIdleTimeoutMilliseconds))), name: "idle")
        try pipeline.addHandler(ConnectHandler(services: services), name: "connect")
        try pipeline.addHandler(ProxyHandler(services: services), name: "proxy")
    }

    /// What `configureHTTPServerPipeline(withErrorHandling: true)` adds, under our names.
    private static func addHTTPHandlers(to pipeline: ChannelPipeline.SynchronousOperations, position: ChannelPipeline.SynchronousOperations.Position) throws {
        let handlers: [ChannelHandler] = [
            HTTPResponseEncoder(),
            ByteToMessageHandler(HTTPRequestDecoder()),
            HTTPServerPipelineHandler(),
            HTTPServerProtocolErrorHandler(),
        ]
        var position = position
        for (handler, name) in zip(handlers, httpHandlerNames) {
            try pipeline.addHandler(handler, name: name, position: position)
            position = .after(try pipeline.context(name: name).handler)
        }
    }

    /// Removes the HTTP handlers; the future completes once the decoder has finished the
    /// read it is in, after which raw bytes may be written and read.
    static func removeHTTPHandlers(from channel: Channel) -> EventLoopFuture<Void> {
        let removals = httpHandlerNames.map { channel.pipeline.syncOperations.removeHandler(name: $0) }
        return EventLoopFuture.andAllSucceed(removals, on: channel.eventLoop)
    }

    /// Puts TLS (with `context`, the intercepted host's leaf certificate) under fresh HTTP
    /// handlers, so the proxy handler reads the decrypted requests as before.
    static func switchToTLS(_ channel: Channel, context: NIOSSLContext) throws {
        let pipeline = channel.pipeline.syncOperations
        let tls = NIOSSLServerHandler(context: context)
        try pipeline.addHandler(tls, name: "tls", position: .first)
        try addHTTPHandlers(to: pipeline, position: .after(tls))
    }

    /// The raw reply that opens a tunnel; written below every HTTP handler.
    static func connectionEstablished(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")
    }
}
