import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The walking skeleton end to end: client → agent (real process) → mock provider, usage
/// → ZeroMQ → aggregator (real process) → RocksDB → `tollgate usage` CLI.
@Suite(.serialized) struct EndToEndTests {
    @Test func totalsAtTheAggregatorEqualTheProvidersGroundTruth() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 3), models: ["gpt-4o", "gpt-4o-mini", "o4-mini"],
                               requests: 90, concurrency: 6)
        let report = try await runTraffic(plan: plan, baseURL: cluster.agentURL.appendingPathComponent("openai"))
        #expect(report.failures == 0, "\(report.failureSamples)")

        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(ledger.entries.reduce(0) { $0 + $1.requests } == 90)
        #expect(ledger.entries.contains { $0.cachedTokens > 0 }, "the traffic should exercise cached input")
        #expect(ledger.entries.contains { $0.reasoningTokens > 0 }, "the traffic should exercise reasoning")
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: cluster.orgSecret),
                                            prices: DefaultPriceCatalog.load())
        #expect(expected.count == 9)

        let differences = try await eventually(until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)))
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))\nagent log:\n\(cluster.log("agent"))")

        // The model is canonical; the snapshot the mock answered with is its own column.
        let table = try cluster.cli(["usage", "--since", "1h", "--by", "model,served_model"])
        #expect(table.contains("gpt-4o ") && table.contains("gpt-4o-2024-08-06") && table.contains("TOTAL"), "\(table)")
    }

    /// Every provider format, streaming and not, through the real agent: every token class
    /// and the cost at the aggregator equal what the mock billed.
    @Test func everyProviderFormatIsMeteredExactly() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let formats = TrafficFormat.allCases
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 2), models: ["gpt-4o", "o4-mini"],
                               requests: formats.count * 8, concurrency: 4, formats: formats)
        let report = try await runTraffic(plan: plan, agentURL: cluster.agentURL)
        #expect(report.failures == 0, "\(report.failureSamples)")
        // The agent asked for usage on these streams; their clients, who did not, never see it.
        let unrequested = report.formats.first { $0.format == .openaiChatStream }
        #expect(unrequested?.requests == 8 && unrequested?.usageHidden == 8)
        #expect(report.formats.filter { $0.format != .openaiChatStream }.allSatisfy { $0.usageHidden == 0 })

        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(Set(ledger.entries.map(\.provider)).isSuperset(of: ["openai", "anthropic", "gemini"]))
        #expect(ledger.entries.contains { $0.cacheWriteTokens > 0 }, "the traffic should exercise cache writes")
        #expect(ledger.entries.contains { $0.cacheWrite1hTokens > 0 }, "the traffic should exercise 1-hour cache writes")
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: cluster.orgSecret), prices: DefaultPriceCatalog.load())
        let differences = try await eventually(until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)))
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

        let (metrics, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("metrics"))
        let text = MetricsText(String(decoding: metrics, as: UTF8.self))
        #expect(text["tollgate_agent_stream_usage_requested_total"] ?? 0 > 0, "streams without include_usage should have been asked for usage")
        #expect(text["tollgate_agent_estimated_requests_total"] == 0, "nothing should need estimating: \(text)")
        #expect(text["tollgate_agent_unpriced_requests_total"] == 0, "every model the mock serves has a price: \(text)")
    }

    /// A client that hangs up mid-stream was still billed for what the provider generated:
    /// the agent records it, estimated and flagged, rather than as free.
    @Test func aStreamTheClientAbandonsIsRecordedAsEstimated() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let body = #"{"model":"gpt-4o-mini","stream":true,"max_tokens":400,"messages":[{"role":"user","content":"Tell me a long story about metering."}]}"#
        let request = "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-cancel-0000000000\r\n"
            + "Content-Type: application/json\r\nX-Mock-Chunk-Delay-Ms: 100\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let seen = try RawHTTP.sendAndHangUp(port: cluster.agentURL.port!, request: request, readBytes: 600)
        #expect(seen.contains("200 OK") && seen.contains("data: "))

        let rows = try await eventually(until: { !$0.isEmpty }) { () -> [[String: Any]] in
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "model", "--format", "json"])
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        }
        #expect(rows.count == 1)
        #expect(rows.first?["requests"] as? Int == 1)
        #expect(rows.first?["estimated"] as? Int == 1)
        #expect((rows.first?["input_tokens"] as? Int ?? 0) > 0)
        #expect((rows.first?["cost_nanousd"] as? Int ?? 0) > 0)
        let (metrics, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("metrics"))
        #expect(String(decoding: metrics, as: UTF8.self).contains("tollgate_agent_client_disconnects_total 1"))
    }

    @Test func upstreamErrorsAreCountedWithZeroTokensAndSeenByTheClientUnchanged() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        var request = URLRequest(url: cluster.agentURL.appendingPathComponent("openai/v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("Bearer sk-test-errors-000000000000", forHTTPHeaderField: "Authorization")
        request.setValue("503", forHTTPHeaderField: "X-Mock-Status")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 503)
        #expect(String(decoding: body, as: UTF8.self).contains("\"error\""))

        let rows = try await eventually(until: { !$0.isEmpty }) { () -> [[String: Any]] in
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "model", "--format", "json"])
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        }
        #expect(rows.count == 1)
        #expect(rows.first?["errors"] as? Int == 1)
        #expect(rows.first?["requests"] as? Int == 1)
        #expect(rows.first?["input_tokens"] as? Int == 0)
        #expect(rows.first?["cost_nanousd"] as? Int == 0)
    }

    @Test func anAgentWhoseKeyIsNotAllowlistedShipsNothing() async throws {
        let cluster = try LocalCluster(authorizeAgent: false)
        defer { cluster.shutdown() }
        try await cluster.start()

        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 1), models: ["gpt-4o-mini"], requests: 5, concurrency: 1)
        let report = try await runTraffic(plan: plan, baseURL: cluster.agentURL.appendingPathComponent("openai"))
        #expect(report.failures == 0, "proxying must not depend on the usage channel")

        let rejections = try await eventually(until: { $0 > 0 }) { () -> Int in
            let (data, _) = try await URLSession.shared.data(from: cluster.apiURL.appendingPathComponent("metrics"))
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("tollgate_ingest_auth_rejected_total ") }
            return line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        #expect(rejections > 0)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try cluster.cli(["usage", "--since", "1h", "--format", "json"]).trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]")
    }

    @Test func oversizedBodiesAreRefusedBeforeTheyReachTheProvider() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  max_request_body_bytes: 2048")
        defer { cluster.shutdown() }
        try await cluster.start()

        for chunked in [false, true] {
            let filler = String(repeating: "a", count: 4096)
            let body = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\#(filler)"}]}"#
            let framing = chunked
                ? "Transfer-Encoding: chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
                : "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let answer = try RawHTTP.sendAndHangUp(
                port: cluster.agentURL.port!,
                request: "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-big\r\n" + framing,
                readBytes: 4096)
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            #expect(answer.contains("\"code\":\"request_too_large\""))
        }
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        #expect(ledger.entries.isEmpty && ledger.errors == 0, "nothing may reach the provider")
    }

    /// Attribution headers tag usage and never reach the provider; host defaults fill the rest.
    @Test func attributionComesFromHeadersMetadataAndHostDefaults() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "attribution:\n  team: platform\n  environment: ci\n  host: runner-7")
        defer { cluster.shutdown() }
        try await cluster.start()

        for (team, user) in [("search", "alice"), (nil, "bob")] {
            var request = URLRequest(url: cluster.agentURL.appendingPathComponent("openai/v1/chat/completions"))
            request.httpMethod = "POST"
            request.setValue("Bearer sk-test-attribution-0000000", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            if let team { request.setValue(team, forHTTPHeaderField: "X-Tollgate-Team") }
            request.setValue("nightly-eval", forHTTPHeaderField: "X-Tollgate-Use-Case")
            request.httpBody = Data(#"{"model":"gpt-4o-mini","user":"\#(user)","messages":[{"role":"user","content":"hi"}]}"#.utf8)
            let (body, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: body, as: UTF8.self))")
        }

        let rows = try await eventually(until: { $0.count == 2 }) { () -> [[String: Any]] in
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "team,user,use_case,env,host", "--format", "json"])
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        }
        let tags = Set(rows.map { "\($0["team"]!)/\($0["user"]!)/\($0["use_case"]!)/\($0["env"]!)/\($0["host"]!)" })
        #expect(tags == ["search/alice/nightly-eval/ci/runner-7", "platform/bob/nightly-eval/ci/runner-7"])
    }

    @Test func theAdminListenerAndStatusCommandShowWhatTheAgentIsDoing() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 1), models: ["gpt-4o-mini"], requests: 7, concurrency: 1)
        _ = try await runTraffic(plan: plan, baseURL: cluster.agentURL.appendingPathComponent("openai"))

        let (metrics, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("metrics"))
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("tollgate_agent_request_duration_seconds_count{provider=\"openai\"} 7"))
        #expect(text.contains("tollgate_agent_requests_total{provider=\"openai\",endpoint=\"chat.completions\"} 7"))
        // Sequential requests ride pooled keep-alive connections to the provider.
        func counter(_ name: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        #expect(counter("tollgate_agent_upstream_connections_reused_total") > 0)
        #expect(counter("tollgate_agent_upstream_connections_opened_total") < 7)
        let (proxyMetrics, response) = try await URLSession.shared.data(from: cluster.agentURL.appendingPathComponent("metrics"))
        #expect((response as? HTTPURLResponse)?.statusCode == 404, "metrics must not be served on the proxy port: \(proxyMetrics.count)")

        let status = try await eventually(until: { $0.contains("0 batch(es) awaiting ack") }) {
            try LocalCluster.run("tollgate-agent", ["status", "--config", cluster.directory.appendingPathComponent("agent.yaml").path])
        }
        #expect(status.contains("7 metered"), "\(status)")
        #expect(status.contains("0 batch(es) awaiting ack"))
    }

    /// SIGTERM lets a response in flight finish, then flushes its usage before exiting.
    @Test func sigtermDrainsInFlightRequestsAndFlushesUsage() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        var request = URLRequest(url: cluster.agentURL.appendingPathComponent("openai/v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("Bearer sk-test-drain-00000000000", forHTTPHeaderField: "Authorization")
        request.setValue("80", forHTTPHeaderField: "X-Mock-Chunk-Delay-Ms")
        request.httpBody = Data(#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"max_tokens":60,"messages":[{"role":"user","content":"drain"}]}"#.utf8)
        let slowStream = request
        async let answer = URLSession.shared.data(for: slowStream)
        try await Task.sleep(for: .milliseconds(250))
        cluster.stop("agent", signal: SIGTERM)
        let (body, _) = try await answer
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("data: [DONE]"), "the stream must complete despite SIGTERM: \(text.suffix(200))")
        #expect(text.contains("\"usage\":{"))

        try await cluster.restart("agent")  // only to read the CLI through the same cluster
        let json = try cluster.cli(["usage", "--since", "1h", "--by", "model", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        #expect(rows.first?["requests"] as? Int == 1, "usage was flushed before exit: \(json)")
        #expect(rows.first?["estimated"] as? Int == 0)
    }

    @Test func slowClientsAndSilentProvidersAreCutOff() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "limits:\n  header_timeout_ms: 300\n  upstream_idle_timeout_ms: 400")
        defer { cluster.shutdown() }
        try await cluster.start()

        // Slowloris: half a request head, then nothing. The agent hangs up.
        let started = Date()
        let answer = try RawHTTP.sendAndHangUp(port: cluster.agentURL.port!, request: "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow", readBytes: 1)
        #expect(answer.isEmpty && Date().timeIntervalSince(started) < 5)

        // A provider that goes silent mid-stream: the client's stream is cut, the call is
        // still metered (estimated), and the failure is counted.
        let body = #"{"model":"gpt-4o-mini","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hello"}]}"#
        let request = "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-silent-000000\r\n"
            + "Content-Type: application/json\r\nX-Mock-Chunk-Delay-Ms: 1500\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let seen = try RawHTTP.sendAndHangUp(port: cluster.agentURL.port!, request: request, readBytes: 1 << 20)
        #expect(seen.contains("200 OK") && !seen.contains("[DONE]"))
        let (metrics, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("metrics"))
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("tollgate_agent_rejected_requests_total{reason=\"header_timeout\"} 1"))
        #expect(text.contains("tollgate_agent_upstream_failures_total 1"))
        #expect(text.contains("tollgate_agent_estimated_requests_total 1"))
    }

    @Test func unknownRoutesGetAnOpenAIShapedError() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        let (body, response) = try await URLSession.shared.data(from: cluster.agentURL.appendingPathComponent("nowhere"))
        #expect((response as? HTTPURLResponse)?.statusCode == 404)
        let error = try JSONSerialization.jsonObject(with: body) as? [String: [String: Any]]
        #expect(error?["error"]?["code"] as? String == "unknown_route")
    }
}

/// Calls `body` until `done` accepts its value or `seconds` pass, and returns the last
/// value: usage reaches the aggregator a flush interval after the response.
func eventually<T>(seconds: Double = 20, until done: (T) -> Bool, _ body: () async throws -> T) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    var value = try await body()
    while !done(value) && Date() < deadline {
        try await Task.sleep(for: .milliseconds(200))
        value = try await body()
    }
    return value
}
