import Foundation
import NIOCore
import NIOEmbedded
import Testing
import TestSupport
import TollgateHTTP1
@testable import TollgateAgent

/// What a hostile or broken client may cost the proxy: its upload is timed, the body bytes
/// all connections buffer are capped, and so are open connections. Driven on embedded
/// channels with the loop's clock moved by hand; `ProxyLimitsWireTests` does the same
/// against the real agent's sockets.
@Suite struct ProxyLimitsTests {
    static let head = "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer sk-test\r\nContent-Length: 100\r\n\r\n"

    static func metrics(_ proxy: ProxyHarness) -> MetricsText { MetricsText(proxy.services.metrics.exposition()) }

    // MARK: Deadlines

    @Test func aBodyThatStallsGetsA408AndTheConnectionCloses() throws {
        let proxy = try ProxyHarness { $0.bodyIdleTimeout = .seconds(1) }
        try proxy.client.writeInbound(ByteBuffer(string: Self.head + "{\"model\":"))
        proxy.loop.advanceTime(by: .milliseconds(900))
        #expect(try proxy.clientReceived() == "")
        try proxy.client.writeInbound(ByteBuffer(string: "\"gpt"))
        proxy.loop.advanceTime(by: .milliseconds(900))
        #expect(try proxy.clientReceived() == "", "bytes came 0.9 s ago: not idle yet")
        proxy.loop.advanceTime(by: .milliseconds(100))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
        #expect(answer.contains("connection: close\r\n") && answer.contains("limits.body_idle_timeout_ms"), "\(answer)")
        #expect(answer.contains(#""code":"request_timeout""#))
        #expect(Self.metrics(proxy)[#"tollgate_agent_rejected_requests_total{reason="body_timeout"}"#] == 1)
        #expect(proxy.upstreams.opened.isEmpty, "nothing went to the provider")
        #expect(!proxy.client.isActive)
        #expect(proxy.services.bodyBudget.current == 0, "the abandoned body's bytes are given back")
    }

    @Test func aBodyThatTricklesPastTheRequestDeadlineGetsA408() throws {
        let proxy = try ProxyHarness {
            $0.bodyIdleTimeout = .seconds(1)
            $0.requestTimeout = .seconds(3)
        }
        try proxy.client.writeInbound(ByteBuffer(string: Self.head))
        for _ in 0..<5 {
            proxy.loop.advanceTime(by: .milliseconds(500))
            try proxy.client.writeInbound(ByteBuffer(string: "x"))
        }
        #expect(try proxy.clientReceived() == "")
        proxy.loop.advanceTime(by: .milliseconds(500))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 408 ") && answer.contains("limits.request_timeout_ms"), "\(answer)")
        #expect(Self.metrics(proxy)[#"tollgate_agent_rejected_requests_total{reason="request_timeout"}"#] == 1)
    }

    /// The deadlines cover the upload only: a response that streams for longer than both is
    /// never cut by them.
    @Test func aLongResponseIsNotTimedByTheRequestDeadline() throws {
        let proxy = try ProxyHarness {
            $0.bodyIdleTimeout = .seconds(1)
            $0.requestTimeout = .seconds(2)
        }
        try proxy.client.writeInbound(ByteBuffer(string: ProxyHandlerTests.post().replacingOccurrences(of: "\r\n\r\n{", with: "\r\n\r\n")))
        try proxy.client.writeInbound(ByteBuffer(string: "{"))  // the last byte, in a read of its own: the deadlines were armed
        let upstream = try #require(proxy.upstreams.opened.first)
        try upstream.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"))
        for _ in 0..<10 {
            proxy.loop.advanceTime(by: .milliseconds(900))
            try upstream.writeInbound(ByteBuffer(string: "6\r\ndata:\n\r\n"))
        }
        try upstream.writeInbound(ByteBuffer(string: "0\r\n\r\n"))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.hasSuffix("0\r\n\r\n"), "\(answer)")
        #expect(proxy.client.isActive)
        #expect(Self.metrics(proxy)[#"tollgate_agent_rejected_requests_total{reason="request_timeout"}"#] == 0)
    }

    @Test func aRequestRefusedOnItsHeadStillMayNotTrickleItsBodyForever() throws {
        let proxy = try ProxyHarness { $0.bodyIdleTimeout = .seconds(1) }
        try proxy.client.writeInbound(ByteBuffer(string: "POST /nowhere HTTP/1.1\r\nHost: agent\r\nContent-Length: 100\r\n\r\n"))
        #expect(try proxy.clientReceived().hasPrefix("HTTP/1.1 404 "))
        #expect(proxy.client.isActive, "a refusal keeps a keep-alive connection while its body is skipped")
        proxy.loop.advanceTime(by: .seconds(1))
        #expect(!proxy.client.isActive)
        #expect(Self.metrics(proxy)[#"tollgate_agent_rejected_requests_total{reason="body_timeout"}"#] == 1)
    }

    // MARK: Buffered bytes

    @Test func aBodyThatWouldGoOverTheSharedBufferCapGetsA503AndItsBytesAreGivenBack() throws {
        let first = try ProxyHarness {
            $0.maxBufferedBytes = 2_048
            $0.bodyIdleTimeout = .seconds(1)
        }
        let big = "POST /anthropic/v1/messages HTTP/1.1\r\nHost: agent\r\nx-api-key: sk-test\r\nContent-Length: 4000\r\n\r\n"
        try first.client.writeInbound(ByteBuffer(string: big + String(repeating: "a", count: 1_500)))
        #expect(first.services.bodyBudget.current == 1_500)
        #expect(Self.metrics(first)["tollgate_agent_proxy_buffered_request_bytes"] == 1_500)
        try first.client.writeInbound(ByteBuffer(string: String(repeating: "a", count: 600)))
        let answer = try first.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(answer)")
        #expect(answer.contains("retry-after: 1\r\n") && answer.contains("limits.max_buffered_bytes"))
        #expect(answer.contains(#""type":"error""#), "in the provider's own shape (Anthropic's here)")
        #expect(Self.metrics(first)[#"tollgate_agent_rejected_requests_total{reason="buffer"}"#] == 1)
        first.loop.advanceTime(by: .seconds(5))
        #expect(Self.metrics(first)[#"tollgate_agent_rejected_requests_total{reason="body_timeout"}"#] == 0, "refused once, counted once")
        #expect(first.services.bodyBudget.current == 0)
        #expect(Self.metrics(first)["tollgate_agent_proxy_buffered_request_bytes"] == 0)
    }

    @Test func aClientThatLeavesMidBodyGivesItsBytesBack() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.head + String(repeating: "b", count: 60)))
        #expect(proxy.services.bodyBudget.current == 60)
        proxy.client.close(promise: nil)
        #expect(proxy.services.bodyBudget.current == 0)
    }

    /// A forwarded body is let go when the provider starts answering, not when a long
    /// stream ends, so streams in progress do not crowd out new uploads.
    @Test func aForwardedBodyIsGivenBackOnceTheResponseBegins() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: ProxyHandlerTests.post()))
        #expect(proxy.services.bodyBudget.current == ProxyHandlerTests.chat.utf8.count, "held while a retry may need it")
        let upstream = try #require(proxy.upstreams.opened.first)
        try upstream.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"))
        #expect(proxy.services.bodyBudget.current == 0)
        try upstream.writeInbound(ByteBuffer(string: "0\r\n\r\n"))
        _ = try proxy.clientReceived()
        #expect(proxy.services.bodyBudget.current == 0)
    }

    // MARK: Connections

    @Test func connectionsOverTheCapAreAnswered503AndAdmittedAgainOnceOthersClose() throws {
        let proxy = try ProxyHarness { $0.maxConnections = 2 }
        func connect() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel(loop: proxy.loop)
            try ProxyPipeline.configure(channel, services: proxy.services)
            channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 50_001), promise: nil)
            return channel
        }
        let first = try connect()
        let second = try connect()
        #expect(Self.metrics(proxy)["tollgate_agent_proxy_connections"] == 2)
        let third = try connect()
        let refusal = try ProxyHandlerTests.drain(third)
        #expect(refusal.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && refusal.contains("limits.max_connections (2)"), "\(refusal)")
        #expect(refusal.contains("retry-after: 1\r\n"))
        #expect(Self.metrics(proxy)[#"tollgate_agent_rejected_requests_total{reason="connections"}"#] == 1)
        #expect(Self.metrics(proxy)["tollgate_agent_proxy_connections"] == 2, "a refused connection is not counted as open")

        first.close(promise: nil)
        proxy.loop.run()
        #expect(proxy.services.connections.current == 1)
        let fourth = try connect()
        #expect(try ProxyHandlerTests.drain(fourth) == "", "admitted: it waits for its request")
        _ = try second.finish(acceptAlreadyClosed: true)
        _ = try fourth.finish(acceptAlreadyClosed: true)
        proxy.loop.run()
        #expect(proxy.services.connections.current == 0)
        #expect(Self.metrics(proxy)["tollgate_agent_proxy_connections"] == 0)
    }

    // MARK: Config

    static func configYAML(limits: String = "") throws -> String {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("limits-secret-\(UUID())").path
        try "0123456789abcdef0123456789abcdef".write(toFile: secret, atomically: true, encoding: .utf8)
        return "org_secret_file: \(secret)\naggregator:\n  insecure_plaintext: true\n" + (limits.isEmpty ? "" : "limits:\n  \(limits)\n")
    }

    @Test(arguments: ["body_idle_timeout_ms", "request_timeout_ms", "max_connections", "max_buffered_bytes"])
    func badLimitValuesAreRefusedAtStartNamingTheKey(key: String) throws {
        for value in ["0", "-5", "ten", "1.5"] {
            let yaml = try Self.configYAML(limits: "\(key): \(value)")
            #expect {
                try AgentConfig(yaml: yaml)
            } throws: { error in
                "\(error)".contains("limits.\(key)")
            }
        }
    }

    @Test func theLimitsHaveSaneDefaults() throws {
        let config = try AgentConfig(yaml: try Self.configYAML())
        #expect(config.bodyIdleTimeout == .seconds(10) && config.requestTimeout == .seconds(60))
        #expect(config.maxConnections == 1_024 && config.maxBufferedBytes == 128 << 20)
    }
}
