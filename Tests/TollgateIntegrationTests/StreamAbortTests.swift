import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client that hangs up mid-stream, in every response format and in both proxy modes,
/// against the mock's ledger: the mock bills what it generated until its connection closed
/// (as the providers do) and says when that was. The agent must close the provider's
/// connection at once, and record the exchange as `estimated`, with at least what the
/// provider billed.
@Suite(.serialized) struct StreamAbortTests {
    /// One streamed call: the path after the agent's base-URL prefix is the provider's own.
    struct Call: CustomStringConvertible, Sendable {
        var name: String
        var prefix: String
        var host: String
        var path: String
        var headers: [String]
        var body: String

        var description: String { name }

        /// The request as a base-URL client sends it to the agent.
        func baseURLRequest(key: String) -> String {
            "POST \(prefix)\(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers(key: key).map { $0 + "\r\n" }.joined()
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        }

        /// Long answers (the mock's 512-token ceiling), paced so that the stream lasts
        /// seconds while the client hangs up in its first few hundred milliseconds.
        func headers(key: String) -> [String] {
            headers.map { $0.replacingOccurrences(of: "KEY", with: key) } + ["X-Mock-Seed: 511", "X-Mock-Chunk-Delay-Ms: 40"]
        }
    }

    static let prompt = #"[{"role":"user","content":"Tell me a long story."}]"#
    static let calls: [Call] = [
        Call(name: "openai-chat", prefix: "/openai", host: "api.openai.com", path: "/v1/chat/completions",
             headers: ["Authorization: Bearer KEY"], body: #"{"model":"gpt-4o-mini","stream":true,"messages":\#(prompt)}"#),
        Call(name: "openai-chat-include-usage", prefix: "/openai", host: "api.openai.com", path: "/v1/chat/completions",
             headers: ["Authorization: Bearer KEY"],
             body: #"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":\#(prompt)}"#),
        Call(name: "openai-responses", prefix: "/openai", host: "api.openai.com", path: "/v1/responses",
             headers: ["Authorization: Bearer KEY"], body: #"{"model":"gpt-4.1-mini","stream":true,"input":"Tell me a long story."}"#),
        Call(name: "anthropic-messages", prefix: "/anthropic", host: "api.anthropic.com", path: "/v1/messages",
             headers: ["x-api-key: KEY", "anthropic-version: 2023-06-01"],
             body: #"{"model":"claude-sonnet-4-5","max_tokens":512,"stream":true,"messages":\#(prompt)}"#),
        Call(name: "gemini-sse", prefix: "/gemini", host: "generativelanguage.googleapis.com",
             path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", headers: ["x-goog-api-key: KEY"],
             body: #"{"contents":[{"role":"user","parts":[{"text":"Tell me a long story."}]}]}"#),
        Call(name: "gemini-json-array", prefix: "/gemini", host: "generativelanguage.googleapis.com",
             path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent", headers: ["x-goog-api-key: KEY"],
             body: #"{"contents":[{"role":"user","parts":[{"text":"Tell me a long story."}]}]}"#),
    ]

    /// Bytes the client reads before it hangs up: the head and a few events of any format.
    static let readBeforeHangUp = 2500
    /// How long the provider may keep generating after the client left.
    static let maxCloseDelayMs: Int64 = 300

    @Test func aClientThatHangsUpInBaseURLModeIsEstimatedAndTheProviderStopsAtOnce() async throws {
        try await Self.hangUpOnEveryCall(mode: "base") { call, key, cluster in
            let (socket, first) = try RawHTTP.begin(port: cluster.agentURL.port!, request: call.baseURLRequest(key: key),
                                                    firstBytes: Self.readBeforeHangUp)
            #expect(first.hasPrefix("HTTP/1.1 200"), "\(call): \(first.prefix(300))")
            let leftAt = Self.nowMs()
            close(socket)
            return leftAt
        }
    }

    @Test func aClientThatHangsUpThroughHTTPSProxyIsEstimatedAndTheProviderStopsAtOnce() async throws {
        try await Self.hangUpOnEveryCall(mode: "proxy") { call, key, cluster in
            let curl = try StreamingCurl(["--cacert", cluster.agentCAFile, "https://\(call.host)\(call.path)", "--data", call.body]
                                         + call.headers(key: key).flatMap { ["-H", $0] } + ["-H", "Content-Type: application/json"],
                                         httpsProxy: cluster.agentURL.absoluteString)
            let first = curl.read(atLeast: Self.readBeforeHangUp - 500)  // curl prints the body only
            let leftAt = Self.nowMs()
            curl.kill()
            #expect(first.count >= Self.readBeforeHangUp - 500, "\(call): \(first.prefix(300))\n\(cluster.log("agent"))")
            return leftAt
        }
    }

    /// Runs every call on a fresh cluster, each under its own key: `hangUp` starts it, reads
    /// a little and leaves, returning when (Unix ms) it left.
    static func hangUpOnEveryCall(mode: String, _ hangUp: (Call, String, LocalCluster) throws -> Int64) async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        for (index, call) in calls.enumerated() {
            let key = "sk-abort-\(mode)-\(index)-0000000000000"
            let leftAt = try hangUp(call, key, cluster)
            try await expectStoppedAndEstimated(call, key: key, leftAt: leftAt, cluster: cluster)
        }
    }

    /// The mock closed within `maxCloseDelayMs` of the client leaving, having billed part of
    /// the answer; the agent recorded one estimated request with at least that many tokens.
    static func expectStoppedAndEstimated(_ call: Call, key: String, leftAt: Int64, cluster: LocalCluster) async throws {
        let aborted = try await eventually(until: { $0 != nil }) {
            try await fetchLedger(mockURL: cluster.mockURL).aborted.first { $0.apiKey == key }
        }
        guard let aborted else {
            Issue.record("\(call): the mock never saw the client leave (its stream ran to the end)")
            return
        }
        let delay = aborted.closedAtMs - leftAt
        print("\(call): provider connection closed \(delay) ms after the client left; billed \(aborted.promptTokens) in, "
              + "\(aborted.completionTokens) out after \(aborted.eventsSent) of \(aborted.eventsTotal) events")
        #expect(delay < maxCloseDelayMs, "\(call): the provider kept generating for \(delay) ms after the client left")
        #expect(aborted.eventsSent < aborted.eventsTotal)

        let keyID = KeyIdentifier(orgSecret: cluster.orgSecret).keyID(for: key)
        let row = try await eventually(until: { $0 != nil }) { () -> [String: Any]? in
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key", "--format", "json"])
            let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
            return rows.first { $0["key"] as? String == keyID }
        }
        guard let row else {
            Issue.record("\(call): the agent recorded nothing for the aborted stream\n\(cluster.log("agent").suffix(2000))")
            return
        }
        #expect(row["requests"] as? Int == 1, "\(call): \(row)")
        #expect(row["estimated"] as? Int == 1, "\(call): an aborted stream must be flagged estimated: \(row)")
        #expect(row["errors"] as? Int ?? 0 == 0, "\(call): \(row)")
        let input = row["input_tokens"] as? Int ?? 0
        let output = row["output_tokens"] as? Int ?? 0
        print("\(call): the agent estimated \(input) in, \(output) out")
        #expect(input >= aborted.promptTokens, "\(call): estimated input \(input) < billed \(aborted.promptTokens)")
        #expect(output >= aborted.completionTokens, "\(call): estimated output \(output) < billed \(aborted.completionTokens)")
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// A stream that did not ask for usage reaches the client as the provider sends it without
    /// the agent's `include_usage`: no `"usage":null` on any chunk, no usage chunk, nothing
    /// else changed. The same answer (`X-Mock-Seed`) is fetched from the mock directly; only
    /// the fields the provider randomises per response (id, created, obfuscation) differ.
    @Test func anInjectedUsageStreamReachesTheClientAsIfNothingWasInjected() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        let body = #"{"model":"gpt-4o-mini","stream":true,"messages":\#(Self.prompt)}"#
        func request(_ path: String) -> String {
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-injected-0000000000\r\nX-Mock-Seed: 40\r\n"
                + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        }
        let proxied = try Self.body(of: RawHTTP.exchange(port: cluster.agentURL.port!, request: request("/openai/v1/chat/completions")))
        let direct = try Self.body(of: RawHTTP.exchange(port: cluster.mockURL.port!, request: request("/v1/chat/completions")))
        #expect(!proxied.contains(#""usage""#), "\(proxied)")
        #expect(proxied.hasSuffix("data: [DONE]\n\n"))
        #expect(Self.normalised(proxied) == Self.normalised(direct), "proxied:\n\(proxied)\ndirect:\n\(direct)")
        let metrics = try await cluster.agentMetrics()
        #expect(metrics.contains("tollgate_agent_stream_usage_requested_total 1"), "the agent did inject the option")
    }

    static func body(of answer: String) throws -> String {
        let headEnd = try #require(answer.range(of: "\r\n\r\n"))
        return try ProxyWireTests.dechunk(Array(answer[headEnd.upperBound...].utf8))
    }

    /// Blanks the values a provider draws at random for every response.
    static func normalised(_ stream: String) -> String {
        var text = stream
        for pattern in [#""id":"[^"]*""#, #""created":[0-9]+"#, #""obfuscation":"[^"]*""#] {
            text = text.replacingOccurrences(of: pattern, with: "_", options: .regularExpression)
        }
        return text
    }
}

/// curl with `HTTPS_PROXY`, read as it streams, then killed: a client process that dies
/// mid-response, the way a cancelled CI job or a ^C leaves.
final class StreamingCurl {
    private let process = Process()
    private let output = Pipe()

    init(_ arguments: [String], httpsProxy: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "-N", "--max-time", "30"] + arguments
        process.environment = Curl.environment(httpsProxy: httpsProxy)
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// What curl printed once it printed at least `count` bytes (or ended).
    func read(atLeast count: Int) -> String {
        var received = Data()
        while received.count < count {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        return String(decoding: received, as: UTF8.self)
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
