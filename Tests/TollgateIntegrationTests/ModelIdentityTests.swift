import Foundation
import TestSupport
import Testing
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One model identity, end to end (issue #15): the mock answers `gpt-4.1` with the snapshot
/// `gpt-4.1-2025-04-14`, as OpenAI does. A budget on either name must count those calls at
/// the aggregator and block them at the agent, and every record of them, error and
/// refusal included, must land under one canonical model.
@Suite(.serialized) struct ModelIdentityTests {
    static func chat(_ agent: URL, model: String, status: Int? = nil) async throws -> (status: Int, body: String, headers: [String: String]) {
        var request = URLRequest(url: agent.appendingPathComponent("openai/v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer sk-model-identity-000000000001", forHTTPHeaderField: "Authorization")
        if let status { request.setValue(String(status), forHTTPHeaderField: "X-Mock-Status") }
        request.httpBody = Data(#"{"model":"\#(model)","max_tokens":50,"messages":[{"role":"user","content":"hello"}]}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return (http.statusCode, String(decoding: data, as: UTF8.self), fields)
    }

    func budget(_ cluster: LocalCluster, _ arguments: [String]) throws -> String {
        try cluster.cli(["budget"] + arguments + ["--token-file", cluster.apiTokenFile])
    }

    func usage(_ cluster: LocalCluster, by: String) throws -> [[String: Any]] {
        let json = try cluster.cli(["usage", "--since", "1h", "--by", by, "--format", "json"])
        return try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
    }

    /// A budget's spend in its current window, as the aggregator counts it.
    func spent(_ cluster: LocalCluster, _ id: String) throws -> Int {
        let shown = try JSONSerialization.jsonObject(with: Data(try budget(cluster, ["show", id, "--format", "json"]).utf8)) as? [String: Any]
        return (shown?["status"] as? [String: Any])?["spent"] as? Int ?? -1
    }

    func heldBudgets(_ cluster: LocalCluster) async throws -> Int64 {
        try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
    }

    @Test func aBudgetOnTheAliasOrTheSnapshotBlocksTheSameCallsAtBothEnds() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        // Before any budget: one provider error, recorded under the canonical model.
        #expect(try await Self.chat(cluster.agentURL, model: "gpt-4.1", status: 500).status == 500)

        // Named by its snapshot, stored (and pushed) as the canonical model.
        let set = try budget(cluster, ["set", "gpt41-snapshot", "--selector", "model=gpt-4.1-2025-04-14", "--limit", "4requests",
                                       "--window", "hour", "--format", "json"])
        let stored = (try JSONSerialization.jsonObject(with: Data(set.utf8)) as? [String: Any])?["budget"] as? [String: Any]
        #expect(stored?["selector"] as? String == "model=gpt-4.1", "\(set)")
        _ = try budget(cluster, ["set", "gpt41-alias", "--selector", "model=gpt-4.1", "--limit", "3requests", "--window", "hour"])
        let held = try await eventually(seconds: 10, until: { $0 == 2 }) { try await heldBudgets(cluster) }
        #expect(held == 2)
        // The error reached the aggregator's tally (whether before the budget, by recount, or after, at ingest).
        let counted = try await eventually(until: { $0 == 1 }) { try spent(cluster, "gpt41-alias") }
        #expect(counted == 1)

        // The error counted as a request: two more fit the 3-request budget, asked for by
        // alias and by snapshot. Each is let settle first: until the aggregator's count of a
        // call has reached the agent, the agent counts it twice (pushed and its own), which
        // errs towards blocking and would refuse the last call that fits.
        func settle(_ spent: Int) async throws {
            _ = try await eventually(until: { $0 == spent }) { try self.spent(cluster, "gpt41-alias") }
            try await Task.sleep(for: .milliseconds(1_600))  // a snapshot (every second) prunes the agent's own copy
        }
        let first = try await Self.chat(cluster.agentURL, model: "gpt-4.1")
        #expect(first.status == 200, "\(first.body)")
        try await settle(2)
        let second = try await Self.chat(cluster.agentURL, model: "gpt-4.1-2025-04-14")
        #expect(second.status == 200, "\(second.body)")
        try await settle(3)
        let refused = try await Self.chat(cluster.agentURL, model: "gpt-4.1")
        #expect(refused.status == 429, "\(refused.body)")
        #expect(refused.headers["x-tollgate-budget"] == "gpt41-alias")
        #expect(try await Self.chat(cluster.agentURL, model: "gpt-4.1-2025-04-14").status == 429)
        #expect(try await Self.chat(cluster.agentURL, model: "gpt-4o-mini").status == 200, "another model is not capped")

        // The aggregator tallied the snapshot-named budget from the same cells: 3 of 4.
        let tallied = try await eventually(until: { $0 >= 3 }) { try spent(cluster, "gpt41-snapshot") }
        #expect(tallied == 3)

        // Without the tighter budget, the snapshot-named one admits one more call, then blocks.
        _ = try budget(cluster, ["rm", "gpt41-alias"])
        _ = try await eventually(seconds: 10, until: { $0 == 1 }) { try await heldBudgets(cluster) }
        let admitted = try await Self.chat(cluster.agentURL, model: "gpt-4.1")
        #expect(admitted.status == 200, "\(admitted.body)")
        let last = try await Self.chat(cluster.agentURL, model: "gpt-4.1-2025-04-14")
        #expect(last.status == 429 && last.headers["x-tollgate-budget"] == "gpt41-snapshot", "\(last.body)")

        // Every record of these calls is one model; the snapshot and the requested names are their own dimensions.
        let rows = try await eventually(until: { rows in rows.contains { $0["model"] as? String == "gpt-4.1" && ($0["requests"] as? Int ?? 0) >= 4 } }) {
            try usage(cluster, by: "model")
        }
        let models = rows.compactMap { $0["model"] as? String }.sorted()
        #expect(models == ["gpt-4.1", "gpt-4o-mini"], "\(rows)")
        let gpt41 = try #require(rows.first { $0["model"] as? String == "gpt-4.1" })
        #expect(gpt41["requests"] as? Int == 4 && gpt41["errors"] as? Int == 1 && gpt41["blocked"] as? Int == 3, "\(gpt41)")

        let detail = try usage(cluster, by: "model,served_model,requested_model")
        func row(_ served: String, _ requested: String) -> [String: Any]? {
            detail.first { $0["model"] as? String == "gpt-4.1" && $0["served_model"] as? String == served && $0["requested_model"] as? String == requested }
        }
        #expect(row("gpt-4.1-2025-04-14", "gpt-4.1")?["requests"] as? Int == 2, "\(detail)")
        #expect(row("gpt-4.1-2025-04-14", "gpt-4.1-2025-04-14")?["requests"] as? Int == 1, "\(detail)")
        #expect(row("", "gpt-4.1")?["errors"] as? Int == 1, "the error named no model: \(detail)")
        #expect(row("", "gpt-4.1")?["blocked"] as? Int == 1, "\(detail)")
        #expect(row("", "gpt-4.1-2025-04-14")?["blocked"] as? Int == 2, "\(detail)")
        let table = try cluster.cli(["usage", "--since", "1h", "--by", "model,served_model"])
        #expect(table.contains("SERVED_MODEL") && table.contains("gpt-4.1-2025-04-14"), "\(table)")
    }

    @Test func selectorsNamingUnknownModelsOrDimensionsAreRefusedWithWhatIsKnown() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let model = try Self.failingCLI(cluster, ["budget", "set", "typo", "--selector", "model=gpt-4.1-turbo-max", "--limit", "1usd",
                                                  "--window", "day", "--token-file", cluster.apiTokenFile])
        #expect(model.contains("gpt-4.1-turbo-max") && model.contains("does not know") && model.contains("gpt-4.1-mini"), "\(model)")
        let dimension = try Self.failingCLI(cluster, ["budget", "set", "typo", "--selector", "modle=gpt-4.1", "--limit", "1usd",
                                                      "--window", "day", "--token-file", cluster.apiTokenFile])
        #expect(dimension.contains("unknown dimension 'modle'") && dimension.contains("served_model"), "\(dimension)")

        // The API says the same with a 400, and counts it.
        var request = URLRequest(url: cluster.apiURL.appendingPathComponent("v1/budgets/typo"))
        request.httpMethod = "PUT"
        request.setValue("Bearer \(try String(contentsOfFile: cluster.apiTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))",
                         forHTTPHeaderField: "Authorization")
        request.httpBody = Data(#"{"selector":"model=claude-sonnet-9","unit":"usd","limit":1000,"period":"day"}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 400)
        #expect(String(decoding: data, as: UTF8.self).contains("claude-sonnet-4-5"))
        let (metrics, _) = try await URLSession.shared.data(from: cluster.apiURL.appendingPathComponent("metrics"))
        #expect(MetricsText(String(decoding: metrics, as: UTF8.self))[#"tollgate_api_rejected_total{reason="unknown_model"}"#] ?? 0 >= 2)
        // What is known, with every name, from the CLI.
        let models = try cluster.cli(["models"])
        #expect(models.contains("claude-sonnet-4   ") && models.contains("claude-sonnet-4-0"), "\(models)")
        // With its tier, what a policy's tier:premium matches; `--tier` lists one rung.
        let sonnet = models.split(separator: "\n").first { $0.hasPrefix("claude-sonnet-4 ") }?.split(separator: " ") ?? []
        #expect(sonnet.prefix(3) == ["claude-sonnet-4", "anthropic", "standard"], "\(models)")
        let premium = try JSONSerialization.jsonObject(with: Data(try cluster.cli(["models", "--tier", "premium", "--format", "json"]).utf8)) as? [[String: Any]] ?? []
        #expect(premium.contains { $0["model"] as? String == "claude-opus-4-1" } && premium.allSatisfy { $0["tier"] as? String == "premium" }, "\(premium)")
        let listed = try JSONSerialization.jsonObject(with: Data(try budget(cluster, ["list", "--format", "json"]).utf8)) as? [Any]
        #expect(listed?.isEmpty == true, "nothing was stored")
    }

    /// Runs the CLI expecting it to fail; returns what it printed on stderr.
    static func failingCLI(_ cluster: LocalCluster, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try LocalCluster.binary("tollgate")
        process.arguments = arguments + ["--api", cluster.apiURL.absoluteString]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus != 0, "tollgate \(arguments) should fail")
        return String(decoding: data, as: UTF8.self)
    }
}
