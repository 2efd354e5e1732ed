import Foundation
import Testing
import TestSupport
import TollgateMockProvider
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Hostile clients against the real agent process over real sockets: a body that stalls or
/// trickles, more connections than allowed, unfinished bodies that would pin memory. Each is
/// refused with its own counted reason, and the agent serves normal requests afterwards.
@Suite(.serialized) struct ProxyLimitsWireTests {
    static let chatPath = "/openai/v1/chat/completions"

    static func head(contentLength: Int, extra: String = "") -> String {
        "POST \(chatPath) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-limits-00000000\r\nContent-Type: application/json\r\n\(extra)Content-Length: \(contentLength)\r\n\r\n"
    }

    static func metric(_ cluster: LocalCluster, _ series: String) async throws -> Double {
        MetricsText(try await cluster.agentMetrics())[series] ?? -1
    }

    static func rejected(_ reason: String) -> String { #"tollgate_agent_rejected_requests_total{reason="\#(reason)"}"# }

    /// A normal request still succeeds.
    static func expectServes(_ cluster: LocalCluster) throws {
        let answer = try RawHTTP.exchange(port: cluster.agentURL.port!, request: ProxyWireTests.chat(model: "gpt-4o-mini", connection: "close"))
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
    }

    /// Sends a head and then one body byte every `interval` (the receive's timeout paces
    /// it) until the agent answers; returns the answer and how long it took.
    static func trickle(to cluster: LocalCluster, every interval: Duration, steps: Int) throws -> (answer: String, elapsed: Duration) {
        let client = try RawConnection(port: cluster.agentURL.port!)
        client.send(head(contentLength: 100) + "{")
        let started = ContinuousClock.now
        var answer = ""
        for _ in 0..<steps where answer.isEmpty {
            answer = client.receive(timeout: interval)
            if answer.isEmpty { client.send("x") }
        }
        return (answer, ContinuousClock.now - started)
    }

    @Test func aBodyThatStallsGetsA408() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  body_idle_timeout_ms: 1000")
        defer { cluster.shutdown() }
        try await cluster.start()

        let (answer, elapsed) = try Self.trickle(to: cluster, every: .milliseconds(1_500), steps: 6)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n") && answer.contains("limits.body_idle_timeout_ms"), "\(answer)")
        #expect(elapsed < .seconds(4), "given up after one idle second, not \(elapsed)")
        #expect(try await Self.metric(cluster, Self.rejected("body_timeout")) == 1)
        #expect(try await Self.metric(cluster, "tollgate_agent_proxy_buffered_request_bytes") == 0)
        try Self.expectServes(cluster)
    }

    @Test func aBodyTricklingFasterThanTheIdleTimeoutStillMeetsTheRequestDeadline() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  body_idle_timeout_ms: 1000\n  request_timeout_ms: 3000")
        defer { cluster.shutdown() }
        try await cluster.start()

        let (answer, elapsed) = try Self.trickle(to: cluster, every: .milliseconds(400), steps: 20)
        #expect(answer.hasPrefix("HTTP/1.1 408 ") && answer.contains("limits.request_timeout_ms"), "\(answer)")
        #expect(elapsed >= .milliseconds(2_900) && elapsed < .seconds(6), "\(elapsed)")
        #expect(try await Self.metric(cluster, Self.rejected("request_timeout")) == 1)
        #expect(try await Self.metric(cluster, Self.rejected("body_timeout")) == 0)
    }

    /// The request deadline covers the upload only: a stream that runs past it is not cut.
    /// The deadlines leave room for a loaded machine between the head and the body.
    @Test func aLongStreamingResponseIsNotCutByTheRequestDeadline() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  body_idle_timeout_ms: 2000\n  request_timeout_ms: 2500")
        defer { cluster.shutdown() }
        try await cluster.start()

        let body = #"{"model":"gpt-4o-mini","stream":true,"max_tokens":20,"messages":[{"role":"user","content":"a long stream"}]}"#
        let client = try RawConnection(port: cluster.agentURL.port!)
        // Head and body in separate reads, so the upload's deadlines are running.
        client.send(Self.head(contentLength: body.utf8.count, extra: "Connection: close\r\nX-Mock-Chunk-Delay-Ms: 300\r\n"))
        try await Task.sleep(for: .milliseconds(200))
        client.send(body)
        let started = ContinuousClock.now
        let answer = client.receive(timeout: .seconds(30))
        let elapsed = ContinuousClock.now - started
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.contains("data: [DONE]"), "\(answer)")
        #expect(elapsed > .milliseconds(2_700), "the stream must outlast the request deadline for this test to mean anything: \(elapsed)")
        #expect(try await Self.metric(cluster, Self.rejected("request_timeout")) == 0)
    }

    @Test func connectionsOverTheCapAreRefusedUntilOthersClose() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  max_connections: 4")
        defer { cluster.shutdown() }
        try await cluster.start()

        // Connections are parked (they send nothing) until one is refused at once. The
        // start-up health check's keep-alive connection counts while it lasts, and may close
        // at any moment, so the test does not assume how many it takes: at most 4.
        var parked: [RawConnection] = []
        var refusal = ""
        while refusal.isEmpty && parked.count <= 4 {
            let connection = try RawConnection(port: cluster.agentURL.port!)
            refusal = connection.receive(timeout: .milliseconds(1_500))
            if refusal.isEmpty { parked.append(connection) }
        }
        #expect(parked.count <= 4, "a fifth connection was admitted")
        #expect(refusal.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && refusal.contains("limits.max_connections (4)"), "\(refusal)")
        #expect(refusal.lowercased().contains("retry-after: 1\r\n"))
        #expect(try await Self.metric(cluster, Self.rejected("connections")) == 1)

        try #require(!parked.isEmpty)
        parked[0].close()
        _ = try await eventually(until: { $0 <= 3 }) { try await Self.metric(cluster, "tollgate_agent_proxy_connections") }
        try Self.expectServes(cluster)
    }

    /// Unfinished large bodies fill the shared buffer; the next is refused with a retryable
    /// 503, and once the others are gone every byte is accounted back and requests flow.
    @Test func unfinishedBodiesHitTheBufferCapAndGiveTheirBytesBack() async throws {
        let cap = 64 << 20
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  max_buffered_bytes: \(cap)")
        defer { cluster.shutdown() }
        try await cluster.start()

        let declared = 31 << 20
        let sent = 20 << 20
        let holders = try (0..<3).map { _ in try RawConnection(port: cluster.agentURL.port!) }
        for holder in holders {
            holder.send(Self.head(contentLength: declared) + "{\"model\":\"gpt-4o-mini\",\"messages\":[],\"pad\":\"")
            holder.send([UInt8](repeating: UInt8(ascii: "a"), count: sent))
        }
        let held = try await eventually(until: { $0 >= Double(3 * sent) }) {
            try await Self.metric(cluster, "tollgate_agent_proxy_buffered_request_bytes")
        }
        #expect(held <= Double(cap))

        let next = try RawConnection(port: cluster.agentURL.port!)
        next.send(Self.head(contentLength: declared))
        next.send([UInt8](repeating: UInt8(ascii: "a"), count: 8 << 20))
        let refusal = next.receive(timeout: .seconds(10))
        #expect(refusal.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && refusal.contains("limits.max_buffered_bytes"), "\(refusal)")
        #expect(refusal.lowercased().contains("retry-after: 1\r\n"))
        #expect(try await Self.metric(cluster, Self.rejected("buffer")) == 1)

        for holder in holders { holder.close() }
        next.close()
        let after = try await eventually(until: { $0 == 0 }) { try await Self.metric(cluster, "tollgate_agent_proxy_buffered_request_bytes") }
        #expect(after == 0, "every buffered byte is given back")
        try Self.expectServes(cluster)
    }

    /// The same deadlines hold inside an HTTPS_PROXY interception (TLS to the agent): curl
    /// uploading at 100 bytes/s cannot finish 2 KB within a 1 s request deadline.
    @Test func deadlinesApplyInsideInterceptedConnections() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  request_timeout_ms: 1000")
        defer { cluster.shutdown() }
        try await cluster.start()
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":""# + String(repeating: "x", count: 2048) + #""}]}"#
        let result = try Curl.run(["-sS", "--cacert", cluster.agentCAFile, "-w", "\n%{http_code}", "--limit-rate", "100",
                                   "https://api.openai.com/v1/chat/completions",
                                   "-H", "Authorization: Bearer sk-slow-0000000000001", "-H", "Content-Type: application/json", "--data", body],
                                  httpsProxy: cluster.agentURL.absoluteString)
        #expect(result.stdout.hasSuffix("408") && result.stdout.contains("limits.request_timeout_ms"), "\(result.stdout) \(result.stderr)")
        #expect(try await Self.metric(cluster, Self.rejected("request_timeout")) == 1)
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(ledger.entries.isEmpty, "nothing reached the provider")
    }
}
