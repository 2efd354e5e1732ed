import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing
import TestSupport
import TollgateCore
import TollgateHTTP1
import TollgateProviders
@testable import TollgateAgent

/// `ProxyHandler` on an `EmbeddedChannel`, with the provider's side served by embedded
/// channels too (`EmbeddedUpstreams`): the bytes a client sends in, what the provider is
/// asked, and what the client gets back, all in one thread and without sleeping.
@Suite struct ProxyHandlerTests {
    static let chat = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
    static let completion = #"{"id":"c1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#

    static func post(_ body: String = chat, extra: String = "") -> String {
        "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer sk-test\r\n\(extra)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func ok(_ body: String = completion) -> String {
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func drain(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    // MARK: Forwarding

    @Test func aRequestGoesUpstreamAndItsResponseComesBack() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        #expect(proxy.upstreams.opened.count == 1)
        let upstream = proxy.upstreams.opened[0]
        let asked = try Self.drain(upstream)
        #expect(asked.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        #expect(asked.contains("host: openai.test\r\n") && asked.hasSuffix("\r\n\r\n" + Self.chat))
        #expect(proxy.services.inFlight.current == 1)

        try upstream.writeInbound(ByteBuffer(string: Self.ok()))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.hasSuffix(Self.completion))
        #expect(proxy.services.inFlight.current == 0)
        #expect(proxy.services.upstreamPool.idleCount == 1, "a keep-alive provider connection goes back to the pool")
        #expect(proxy.client.isActive)
    }

    @Test func pipelinedRequestsAreServedInOrderOnTheReusedConnection() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post() + Self.post(#"{"model":"gpt-4o-mini","messages":[]}"#)))
        #expect(proxy.upstreams.opened.count == 1)
        let upstream = proxy.upstreams.opened[0]
        #expect(try Self.drain(upstream).hasSuffix(Self.chat), "only the first is forwarded")
        #expect(!proxy.clientReads, "the client is not read while the second waits")

        try upstream.writeInbound(ByteBuffer(string: Self.ok()))
        #expect(try Self.drain(upstream).hasSuffix(#"{"model":"gpt-4o-mini","messages":[]}"#), "the second went on the pooled connection")
        #expect(!proxy.clientReads, "still paused while the second is forwarded")

        try upstream.writeInbound(ByteBuffer(string: Self.ok("{}")))
        let answers = try proxy.clientReceived()
        #expect(answers.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(answers.hasSuffix("\r\n\r\n{}"), "in order")
        #expect(proxy.clientReads, "and reading resumes once both are served")
        #expect(proxy.upstreams.opened.count == 1)
    }

    @Test func aClientThatLeavesMidStreamIsMeteredAndTheProviderCut() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        let upstream = proxy.upstreams.opened[0]
        try upstream.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n10\r\ndata: {\"a\":1}\n\n\r\n"))
        #expect(try proxy.clientReceived().contains("data: {\"a\":1}"))

        proxy.client.close(promise: nil)
        #expect(proxy.services.inFlight.current == 0)
        #expect(!upstream.isActive, "the provider's connection is cut, not pooled")
        #expect(proxy.services.upstreamPool.idleCount == 0)
    }

    /// The request went out but no answer came before the client gave up: the provider has
    /// read the prompt (and bills it), so the exchange is metered as an estimate, and the
    /// provider's connection is cut so it stops working on it.
    @Test func aClientThatLeavesBeforeTheAnswerIsMeteredAsAnEstimateAndTheProviderCut() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        let upstream = proxy.upstreams.opened[0]
        #expect(try Self.drain(upstream).hasSuffix(Self.chat))

        proxy.client.close(promise: nil)
        #expect(!upstream.isActive && proxy.services.upstreamPool.idleCount == 0)
        let metrics = MetricsText(proxy.services.metrics.exposition())
        #expect(metrics["tollgate_agent_estimated_requests_total"] == 1, "\(metrics)")
        #expect(metrics["tollgate_agent_client_disconnects_total"] == 1)
        #expect(metrics[#"tollgate_agent_usage_problems_total{reason="truncated_stream"}"#] == 1)
    }

    /// A provider that could not be reached never saw the request: nothing is metered.
    @Test func anUnreachableProviderGetsA502InItsOwnShape() throws {
        let proxy = try ProxyHarness()
        proxy.upstreams.failure = ChannelError.connectTimeout(.seconds(10))
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(answer.contains("connection: close\r\n") && answer.contains("\"upstream_unreachable\""))
        #expect(proxy.services.inFlight.current == 0)
        #expect(!proxy.client.isActive)
        #expect(MetricsText(proxy.services.metrics.exposition())["tollgate_agent_estimated_requests_total"] == 0)
    }

    @Test func aProviderThatFailsMidResponseCutsTheClient() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        let upstream = proxy.upstreams.opened[0]
        try upstream.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"id\":"))
        #expect(try proxy.clientReceived().hasPrefix("HTTP/1.1 200 OK\r\n"))

        upstream.pipeline.fireChannelInactive()
        #expect(try proxy.clientReceived() == "", "no error response inside a response that began")
        #expect(!proxy.client.isActive)
        #expect(proxy.services.inFlight.current == 0)
    }

    @Test func aStalePooledConnectionIsReplacedOnceTransparently() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        let first = proxy.upstreams.opened[0]
        try first.writeInbound(ByteBuffer(string: Self.ok()))
        _ = try proxy.clientReceived()
        _ = try Self.drain(first)

        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        #expect(proxy.upstreams.opened.count == 1, "the pooled connection is tried first")
        first.pipeline.fireChannelInactive()  // the provider had closed it while idle
        #expect(proxy.upstreams.opened.count == 2)
        let second = proxy.upstreams.opened[1]
        #expect(try Self.drain(second).hasSuffix(Self.chat))
        try second.writeInbound(ByteBuffer(string: Self.ok()))
        #expect(try proxy.clientReceived().hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(proxy.client.isActive)
    }

    @Test func aStreamThatDidNotAskForUsageGetsItUpstreamButTheClientNeverSeesIt() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: Self.post(#"{"model":"gpt-4o","stream":true,"messages":[]}"#)))
        let asked = try Self.drain(proxy.upstreams.opened[0])
        #expect(asked.contains(#""include_usage":true"#), "the agent asked for usage")

        let content = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
        let usage = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"
        let done = "data: [DONE]\n\n"
        let stream = content + usage + done
        try proxy.upstreams.opened[0].writeInbound(ByteBuffer(string:
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: \(stream.utf8.count)\r\n\r\n" + stream))
        let answer = try proxy.clientReceived()
        #expect(answer.contains("transfer-encoding: chunked\r\n"), "filtered bytes no longer match the provider's length")
        #expect(answer.contains("\"content\":\"hi\"") && answer.contains(done))
        #expect(!answer.contains("usage"), "the usage chunk the client did not ask for is dropped")
        #expect(answer.hasSuffix("0\r\n\r\n"))
    }

    // MARK: Answered by the agent

    @Test func aRefusedRequestGetsTheProvidersOwn429AndNeverGoesUpstream() throws {
        var settings = QuotaGate.Settings()
        settings.onStale = .deny
        let gate = QuotaGate(book: QuotaBook(agentID: "test-agent"), settings: settings, prices: DefaultPriceCatalog.load())
        let proxy = try ProxyHarness(gate: gate)
        try proxy.client.writeInbound(ByteBuffer(string: Self.post()))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 429 Too Many Requests\r\n"))
        #expect(answer.contains("x-tollgate-budget: stale\r\n") && answer.contains("\"budget_exceeded\""))
        #expect(proxy.upstreams.opened.isEmpty)
        #expect(proxy.services.inFlight.current == 0)
        #expect(proxy.client.isActive, "a refusal keeps a keep-alive connection")
    }

    @Test func theHealthCheckAndExpectContinueAreAnsweredLocally() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: agent\r\n\r\n"))
        #expect(try proxy.clientReceived().hasSuffix("\r\n\r\nok\n"))

        try proxy.client.writeInbound(ByteBuffer(string: "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: agent\r\nExpect: 100-continue\r\nContent-Length: \(Self.chat.utf8.count)\r\n\r\n"))
        #expect(try proxy.clientReceived() == "HTTP/1.1 100 Continue\r\n\r\n")
        try proxy.client.writeInbound(ByteBuffer(string: Self.chat))
        #expect(proxy.upstreams.opened.count == 1)
    }

    @Test func aMalformedRequestGetsItsStatusAndTheConnectionCloses() throws {
        let proxy = try ProxyHarness()
        try proxy.client.writeInbound(ByteBuffer(string: "BREW /pot HTTP/1.1\r\nHost: agent\r\n\r\n"))
        let answer = try proxy.clientReceived()
        #expect(answer.hasPrefix("HTTP/1.1 501 "))
        #expect(!proxy.client.isActive)
    }
}

/// A client connection through `ProxyHandler`, on one embedded loop with its upstreams.
/// Made inside each test: an embedded loop belongs to the thread that made it.
final class ProxyHarness {
    let loop: EmbeddedEventLoop
    let upstreams: EmbeddedUpstreams
    let services: ProxyServices
    let client: EmbeddedChannel

    /// `configure` adjusts the agent's config (limits…) before the proxy is made.
    init(gate: QuotaGate? = nil, configure: (inout AgentConfig) -> Void = { _ in }) throws {
        let loop = EmbeddedEventLoop()
        self.loop = loop
        upstreams = EmbeddedUpstreams(loop: loop)
        var config = AgentConfig()
        config.stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-handler-\(UUID())").path
        config.orgSecret = Array("0123456789abcdef0123456789abcdef".utf8)
        config.upstreams.openai = UpstreamURL(scheme: "http", host: "openai.test", port: 80, basePath: "")
        configure(&config)
        let metrics = AgentMetrics()
        let logger = Logger(label: "proxy-handler-tests")
        services = ProxyServices(
            config: config, pipeline: try UsagePipeline(config: config, metrics: metrics, logger: logger), metrics: metrics,
            inFlight: InFlightRequests(), connections: ConnectionLimiter(maxConnections: config.maxConnections, gauge: metrics.proxyConnections),
            bodyBudget: RequestBodyBudget(maxBytes: config.maxBufferedBytes, gauge: metrics.proxyBufferedBytes), upstreamPool: UpstreamPool(), meter: ExchangeMeter(prices: config.prices),
            keys: CallerKeyCache(identifier: KeyIdentifier(orgSecret: config.orgSecret)),
            upstreamTLS: try NIOSSLContext(configuration: .makeClientConfiguration()), leafCertificates: nil,
            gate: gate, logger: logger, upstreamConnector: upstreams)
        let client = EmbeddedChannel(loop: loop)
        self.client = client
        try client.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestPartDecoder()))
        try client.pipeline.syncOperations.addHandler(ProxyHandler(services: services))
        client.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 50_000), promise: nil)
    }

    /// Everything written to the client so far.
    func clientReceived() throws -> String {
        try ProxyHandlerTests.drain(client)
    }

    /// Whether the handler last turned the client's reading on or off.
    var clientReads: Bool {
        client.options.last(where: { $0.option is ChannelOptions.Types.AutoReadOption })?.value as? Bool ?? true
    }
}

/// Serves `UpstreamConnecting` with embedded channels on the test's own loop, so a test
/// plays the provider by writing its bytes in and reading the request out.
final class EmbeddedUpstreams: UpstreamConnecting, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    /// Every connection opened, in order.
    private(set) var opened: [EmbeddedChannel] = []
    /// Set to make connecting fail.
    var failure: Error?

    init(loop: EmbeddedEventLoop) {
        self.loop = loop
    }

    func connect(to upstream: UpstreamURL, on eventLoop: EventLoop, services: ProxyServices,
                 relay: UpstreamResponseRelay) -> EventLoopFuture<Channel> {
        if let failure { return eventLoop.makeFailedFuture(failure) }
        let channel = EmbeddedChannel(handler: relay, loop: loop)
        channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: upstream.port), promise: nil)
        opened.append(channel)
        return eventLoop.makeSucceededFuture(channel)
    }
}
