import Foundation
import NIOCore
import NIOEmbedded
import Testing
import TollgateCore
@testable import TollgateAgent

@Suite struct InterceptPolicyTests {
    private func config(_ intercept: String) throws -> AgentConfig {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID())").path
        try "0123456789abcdef0123456789abcdef\n".write(toFile: secret, atomically: true, encoding: .utf8)
        return try AgentConfig(yaml: "org_secret_file: \(secret)\naggregator:\n  insecure_plaintext: true\nintercept:\n\(intercept)")
    }

    @Test func providerHostsMatchExactlyOrByWildcardSuffix() {
        let policy = InterceptPolicy()
        #expect(policy.route(forHost: "api.openai.com") == .openai)
        #expect(policy.route(forHost: "API.Anthropic.com.") == .anthropic)
        #expect(policy.route(forHost: "generativelanguage.googleapis.com") == .gemini)
        #expect(policy.route(forHost: "my-resource.openai.azure.com") == .azure)
        #expect(policy.route(forHost: "openai.azure.com") == nil, "the wildcard needs a label before the suffix")
        #expect(policy.route(forHost: "api.openai.com.evil.example") == nil)
        #expect(policy.route(forHost: "github.com") == nil)
    }

    @Test func theInterceptSectionReplacesHostsAndValidatesEveryKey() throws {
        let custom = try config("  provider_hosts:\n    llm-gateway.internal: openai\n  other_hosts: deny\n  connect_to:\n    llm-gateway.internal:443: 10.0.0.5:8443")
        #expect(custom.intercept.route(forHost: "llm-gateway.internal") == .openai)
        #expect(custom.intercept.route(forHost: "api.openai.com") == nil)
        #expect(custom.intercept.otherHosts == .deny)
        #expect(custom.intercept.connectTo[HostPort(host: "llm-gateway.internal", port: 443)] == HostPort(host: "10.0.0.5", port: 8443))

        #expect { try config("  other_hosts: maybe") } throws: { "\($0)".contains("'intercept.other_hosts'") && "\($0)".contains("tunnel or deny") }
        #expect { try config("  provider_hosts:\n    api.x.com: bedrock") } throws: { "\($0)".contains("openai, anthropic, gemini, azure") }
        #expect { try config("  provider_hosts:\n    \"api.*.com\": openai") } throws: { "\($0)".contains("*.suffix") }
        #expect { try config("  connect_to:\n    no-port: 10.0.0.5:1") } throws: { "\($0)".contains("host:port") }
        #expect { try config("  upstream_cafile: x") } throws: { "\($0)".contains("upstream_cafile") }
    }

    @Test func absoluteFormRequestsGoToProvidersOverTLSAndElsewhereUnmetered() throws {
        var policy = InterceptPolicy()
        let provider = try ProviderRoute.resolve(absoluteURI: "http://api.openai.com/v1/chat/completions?x=1", policy: policy).get()
        #expect(provider.provider == .openai && provider.upstream.usesTLS && provider.upstream.port == 443)
        #expect(provider.upstreamURI == "/v1/chat/completions?x=1" && provider.path == "/v1/chat/completions")
        let other = try ProviderRoute.resolve(absoluteURI: "http://example.org:8080/a", policy: policy).get()
        #expect(other.provider == nil && !other.upstream.usesTLS && other.upstream.port == 8080)
        policy.otherHosts = .deny
        #expect(ProviderRoute.resolve(absoluteURI: "http://example.org/a", policy: policy) == .failure(.deniedHost("example.org")))
        #expect(ProviderRoute.resolve(absoluteURI: "ftp://example.org/a", policy: policy) == .failure(.invalidTarget("ftp://example.org/a")))
    }

    /// The tunnel relays bytes both ways and holds reads back while the other side
    /// cannot write.
    @Test func tunnelRelaysBytesBothWaysWithBackpressure() throws {
        let loop = EmbeddedEventLoop()
        let near = EmbeddedChannel(loop: loop)
        let far = EmbeddedChannel(loop: loop)
        let (a, b) = TunnelRelay.pair()
        let reads = ReadCounter()
        try near.pipeline.syncOperations.addHandler(reads)
        try near.pipeline.syncOperations.addHandler(a)
        try far.pipeline.syncOperations.addHandler(b)
        try near.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try far.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()

        try near.writeInbound(ByteBuffer(string: "hello"))
        #expect(try far.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "hello"))
        try far.writeInbound(ByteBuffer(string: "world"))
        #expect(try near.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "world"))

        far.isWritable = false
        near.read()
        #expect(reads.count == 0, "no reading while the other side cannot write")
        far.isWritable = true
        far.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 1, "the held-back read goes out once it can")

        try near.close().wait()
        #expect(!far.isActive, "closing one side closes the other")
    }
}

private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
