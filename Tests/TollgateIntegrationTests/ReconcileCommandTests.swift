import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `tollgate reconcile` end to end: real traffic through the agent, the aggregator pulling
/// the mock's admin reports over HTTP with admin keys from 0600 files, and the CLI's output
/// and exit status when the two agree, when the provider billed a day Tollgate never saw,
/// and when the provider's API fails.
@Suite(.serialized) struct ReconcileCommandTests {
    @Test func agreementThenADisagreementThenAFailure() async throws {
        let cluster = try LocalCluster(aggregatorConfig: { directory, mockURL in
            """
            reconcile:
              openai:
                admin_key_file: \(directory.path)/openai-admin-key
                base_url: \(mockURL.absoluteString)
              anthropic:
                admin_key_file: \(directory.path)/anthropic-admin-key
                base_url: \(mockURL.absoluteString)
            """
        })
        defer { cluster.shutdown() }
        for (name, key) in [("openai-admin-key", MockAdminReports.defaultOpenAIAdminKey), ("anthropic-admin-key", MockAdminReports.defaultAnthropicAdminKey)] {
            let path = cluster.directory.appendingPathComponent(name).path
            #expect(FileManager.default.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]))
        }
        try await cluster.start()

        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 2), models: ["gpt-4o-mini"], requests: 16, concurrency: 4,
                               formats: [.openaiChat, .openaiChatStreamWithUsage, .anthropicMessages, .anthropicMessagesStream])
        let traffic = try await runTraffic(plan: plan, agentURL: cluster.agentURL)
        #expect(traffic.failures == 0, "\(traffic.failureSamples)")
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: cluster.orgSecret), prices: DefaultPriceCatalog.load())
        let differences = try await eventually(until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)))
        }
        #expect(differences.isEmpty, "\(differences)")

        let auth = ["--token-file", cluster.apiTokenFile, "--api", cluster.apiURL.absoluteString]
        let agreed = try Self.tollgate(["reconcile", "--since", "2d"] + auth)
        #expect(agreed.status == 0, "\(agreed.stdout)\n\(agreed.stderr)\n\(cluster.log("aggregator"))")
        #expect(agreed.stdout.contains("STATUS") && agreed.stdout.contains("gpt-4o-mini") && agreed.stdout.contains("claude-"))
        #expect(!agreed.stdout.contains("differs") && !agreed.stdout.contains("missing-"), "\(agreed.stdout)")

        // The provider now bills a day Tollgate never saw.
        let yesterday = Date().addingTimeInterval(-86_400)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let day = formatter.string(from: yesterday)
        try await Self.post(cluster.mockURL.appendingPathComponent("_mock/admin/inject"), #"""
            {"provider":"anthropic","api_key":"sk-demo-0001","model":"claude-sonnet-4-5-20250929","day":"\#(day)","input_tokens":4000,"output_tokens":1000}
            """#)
        let differing = try Self.tollgate(["reconcile", "--since", "2d", "--format", "json", "--differences-only"] + auth)
        #expect(differing.status == 1, "\(differing.stdout)\n\(differing.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(differing.stdout.utf8)) as? [String: Any]
        let rows = report?["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 1, "\(differing.stdout)")
        #expect(rows.first?["status"] as? String == "missing-in-tollgate" && rows.first?["day"] as? String == day)
        #expect(rows.first?["model"] as? String == "claude-sonnet-4-5")
        // Sonnet 4.5: $3 input, $15 output per million → 4000 × 3 + 1000 × 15 = $0.027.
        #expect(rows.first?["provider_cost_nanousd"] as? Int == 27_000_000 && rows.first?["difference_nanousd"] as? Int == -27_000_000)

        // The provider's API fails: exit 2, a clear error on stderr, and the metric counts it.
        try await Self.post(cluster.mockURL.appendingPathComponent("_mock/admin/fault"), #"{"status":500}"#)
        let failed = try Self.tollgate(["reconcile", "--since", "2d", "--provider", "openai"] + auth)
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("openai admin API answered HTTP 500"), "\(failed.stderr)")
        let (metrics, _) = try await URLSession.shared.data(from: cluster.apiURL.appendingPathComponent("metrics"))
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains(#"tollgate_reconcile_runs_total{provider="openai",outcome="http_error"} 1"#))
        #expect(text.contains(#"tollgate_reconcile_runs_total{provider="anthropic",outcome="differs"} 1"#))

        // Bad flags are refused before anything is asked.
        let badFlag = try Self.tollgate(["reconcile", "--provider", "gemini"] + auth)
        #expect(badFlag.status != 0 && badFlag.stderr.contains("expected openai or anthropic"), "\(badFlag.stderr)")
        let noToken = try Self.tollgate(["reconcile", "--api", cluster.apiURL.absoluteString, "--token-file", "/nonexistent"])
        #expect(noToken.status == 2 && noToken.stderr.contains("--token-file"), "\(noToken.stderr)")
    }

    static func tollgate(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try LocalCluster.binary("tollgate")
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    static func post(_ url: URL, _ body: String) async throws {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: data, as: UTF8.self))")
    }
}
