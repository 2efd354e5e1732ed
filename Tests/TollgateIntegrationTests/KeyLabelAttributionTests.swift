import Foundation
import TestSupport
import Testing
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Named keys and API access end to end, on a real aggregator, agent and mock provider:
/// a key labelled `team=ml` counts for a `team=ml` budget on the agent although its
/// requests name no team, reports show its name, the read-only token reads but cannot
/// change, and every change is in the audit log.
@Suite(.serialized) struct KeyLabelAttributionTests {
    static let apiKey = "sk-keys-label-000000000001"

    /// A chat completion with `apiKey` and no attribution header.
    static func chat(_ agent: URL) async throws -> Int {
        var request = URLRequest(url: agent.appendingPathComponent("openai/v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(#"{"model":"gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"hello"}]}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as! HTTPURLResponse).statusCode
    }

    /// Runs `tollgate` with `token` and returns stdout, or throws with stderr in the message.
    static func tollgate(_ cluster: LocalCluster, _ arguments: [String], tokenFile: String) throws -> String {
        try FleetBed.capture(try LocalCluster.binary("tollgate"), arguments + ["--api", cluster.apiURL.absoluteString, "--token-file", tokenFile])
    }

    static func json(_ text: String) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
    }

    @Test func aLabelledKeysTeamCountsForTheTeamsBudgetOnTheAgent() async throws {
        let cluster = try LocalCluster(agents: 1)
        defer { cluster.shutdown() }
        try await cluster.start()
        let admin = cluster.apiTokenFile, reader = cluster.apiReadTokenFile

        // Before the key was ever seen: a clear error naming how to find keys.
        #expect(throws: (any Error).self) { try Self.tollgate(cluster, ["keys", "label", "…0001", "--team", "ml"], tokenFile: admin) }
        do {
            _ = try Self.tollgate(cluster, ["keys", "label", "…0001", "--team", "ml"], tokenFile: admin)
        } catch {
            #expect("\(error)".contains("tollgate keys list"), "\(error)")
        }

        #expect(try await Self.chat(cluster.agentURL) == 200)
        let seen = try await eventually(seconds: 10, until: { $0.count == 1 }) {
            Self.json(try Self.tollgate(cluster, ["keys", "list", "--format", "json"], tokenFile: reader))
        }
        let hint = seen.first?["key_hint"] as? String ?? ""
        #expect(hint.hasPrefix("openai:") && hint.hasSuffix("…0001") && seen.first?["labelled"] as? Bool == false, "\(seen)")

        // The read-only token can list but not label.
        #expect(throws: (any Error).self) { try Self.tollgate(cluster, ["keys", "label", "…0001", "--team", "ml"], tokenFile: reader) }
        _ = try Self.tollgate(cluster, ["keys", "label", "…0001", "--name", "nightly-evals", "--team", "ml", "--project", "evals",
                                        "--owner", "alice@example.com", "--cost-center", "CC-7", "--actor", "alice@laptop"], tokenFile: admin)
        _ = try Self.tollgate(cluster, ["budget", "set", "ml-requests", "--selector", "team=ml", "--limit", "3requests", "--window", "day"],
                              tokenFile: admin)
        let labels = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_key_labels", at: cluster.adminURL)
        }
        #expect(labels == 1, "the agent never received the key label")
        let budgets = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        #expect(budgets == 1)

        // No team header: the key's label puts these requests in team ml, whose budget stops the fourth.
        var statuses: [Int] = []
        for _ in 0..<5 { statuses.append(try await Self.chat(cluster.agentURL)) }
        #expect(statuses == [200, 200, 200, 429, 429])

        let byTeam = try await eventually(seconds: 10, until: { rows in rows.first { $0["team"] as? String == "ml" }?["blocked"] as? Int == 2 }) {
            Self.json(try Self.tollgate(cluster, ["usage", "--since", "1h", "--by", "team", "--format", "json"], tokenFile: reader))
        }
        let ml = byTeam.first { $0["team"] as? String == "ml" } ?? [:]
        #expect(ml["requests"] as? Int == 3 && ml["blocked"] as? Int == 2, "\(byTeam)")
        // The first request, sent before the label, stays where it was: unattributed.
        #expect(byTeam.first { $0["team"] as? String == "" }?["requests"] as? Int == 1, "\(byTeam)")
        let byKey = Self.json(try Self.tollgate(cluster, ["usage", "--since", "1h", "--by", "key", "--format", "json"], tokenFile: reader))
        #expect(byKey.first?["key_name"] as? String == "nightly-evals")
        #expect(try Self.tollgate(cluster, ["usage", "--since", "1h", "--by", "key"], tokenFile: reader).contains("nightly-evals \(hint)"))

        // Usage needs a token now; a wrong one is refused with the token to use.
        let (_, bare) = try await URLSession.shared.data(from: cluster.apiURL.appendingPathComponent("v1/usage"))
        #expect((bare as? HTTPURLResponse)?.statusCode == 401)
        #expect(throws: (any Error).self) {
            try Self.tollgate(cluster, ["budget", "set", "x", "--selector", "*", "--limit", "1usd", "--window", "day"], tokenFile: reader)
        }

        let audit = Self.json(try Self.tollgate(cluster, ["audit", "--format", "json"], tokenFile: reader))
        #expect(audit.map { $0["action"] as? String } == ["key.label", "budget.set"])
        #expect(audit.first?["actor"] as? String == "alice@laptop")
        #expect((audit.first?["after"] as? [String: Any])?["cost_center"] as? String == "CC-7")
        #expect(try Self.tollgate(cluster, ["budget", "history", "ml-requests"], tokenFile: reader).contains("budget.set"))
        let list = try Self.tollgate(cluster, ["keys", "list"], tokenFile: reader)
        #expect(list.contains("nightly-evals") && list.contains("CC-7") && list.contains("alice@example.com"), "\(list)")
    }
}
