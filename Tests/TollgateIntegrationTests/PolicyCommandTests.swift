import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders

/// `tollgate policy` through the real binary against a real `tollgate serve`: set, list,
/// show (with exceptions and history), except, unexcept and rm; bad input refused with the
/// fix named, by the CLI or by the aggregator's validation; and `tollgate usage --by team,tier`
/// adding up to the same spend as `--by team` (the premium-model share by team).
@Suite(.serialized) struct PolicyCommandTests {
    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func policiesAreManagedFromTheCLIAndBadOnesAreRefusedWithTheFix() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "attribution:\n  team: ml")
        defer { cluster.shutdown() }
        try await cluster.start()

        let created = try cluster.cli(["policy", "set", "autocomplete-economy", "--kind", "route", "--scope", "use_case=autocomplete",
                                       "--models", "claude-*", "--to", "claude-haiku-4-5", "--owner", "platform@example.com",
                                       "--exception-path", "#finops-requests"])
        #expect(created.contains("policy autocomplete-economy: created") && created.contains("claude-* → claude-haiku-4-5"), "\(created)")
        _ = try cluster.cli(["policy", "set", "dev-no-premium", "--kind", "deny", "--scope", "env=dev", "--models", "tier:premium", "--dry-run"])

        let refusals: [([String], String)] = [
            (["--kind", "block", "--models", "*"], "expected one of route, downgrade, allow, deny"),
            (["--kind", "route", "--models", "gpt-4.1", "--to", "claude-haiku-4-5"], "cannot cross providers"),
            (["--kind", "route", "--models", "gpt-4.1", "--to", "gpt-9-ultra"], "is not in the price catalog"),
            (["--kind", "route", "--models", "gpt-4.1"], "needs --to MODEL"),
            (["--kind", "downgrade", "--models", "gpt-4.1", "--to", "gpt-4.1-mini"], "needs --budget ID and --at PERCENT"),
            (["--kind", "downgrade", "--models", "gpt-4.1", "--to", "gpt-4.1-mini", "--budget", "nope", "--at", "80"], "budget 'nope' does not exist"),
            (["--kind", "downgrade", "--models", "gpt-4.1", "--to", "gpt-4.1-mini", "--budget", "nope", "--at", "120"], "from 1 to 100"),
            (["--kind", "deny", "--models", "tier:gold"], "unknown tier 'gold'"),
            (["--kind", "deny", "--models", "*", "--scope", "tema=ml"], "tema"),
        ]
        for (arguments, reason) in refusals {
            let message = try ModelIdentityTests.failingCLI(cluster, ["policy", "set", "bad"] + arguments + ["--token-file", cluster.apiTokenFile])
            #expect(message.contains(reason), "\(arguments): \(message)")
        }

        let listed = Self.json(try cluster.cli(["policy", "list", "--format", "json"])) as? [[String: Any]] ?? []
        #expect(listed.compactMap { ($0["policy"] as? [String: Any])?["id"] as? String } == ["autocomplete-economy", "dev-no-premium"])
        #expect((listed.last?["policy"] as? [String: Any])?["mode"] as? String == "dry_run")
        let table = try cluster.cli(["policy", "list"])
        #expect(table.contains("ROUTED") && table.contains("dry_run") && table.contains("platform@example.com"), "\(table)")

        _ = try cluster.cli(["policy", "except", "autocomplete-economy", "--scope", "team=research", "--until", "+7d",
                             "--reason", "opus eval for the Q1 plan", "--author", "alice@example.com"])
        let past = try ModelIdentityTests.failingCLI(cluster, ["policy", "except", "autocomplete-economy", "--until", "1h", "--reason", "r",
                                                               "--author", "a", "--token-file", cluster.apiTokenFile])
        #expect(past.contains("not in the future"), "\(past)")
        let shown = try cluster.cli(["policy", "show", "autocomplete-economy"])
        #expect(shown.contains("[0] team=research until") && shown.contains("opus eval for the Q1 plan") && shown.contains("#finops-requests"), "\(shown)")
        #expect(shown.contains("history") && shown.contains("policy.except"), "\(shown)")
        _ = try cluster.cli(["policy", "unexcept", "autocomplete-economy", "0"])
        let after = Self.json(try cluster.cli(["policy", "show", "autocomplete-economy", "--format", "json"])) as? [String: Any]
        #expect(((after?["policy"] as? [String: Any])?["exceptions"] as? [Any])?.isEmpty == true)

        _ = try cluster.cli(["policy", "rm", "dev-no-premium"])
        let gone = try ModelIdentityTests.failingCLI(cluster, ["policy", "rm", "dev-no-premium", "--token-file", cluster.apiTokenFile])
        #expect(gone.contains("no policy 'dev-no-premium'"), "\(gone)")
        let audit = Self.json(try cluster.cli(["audit", "--target", "policy:", "--format", "json"])) as? [[String: Any]] ?? []
        #expect(audit.compactMap { $0["action"] as? String } == ["policy.set", "policy.set", "policy.except", "policy.unexcept", "policy.remove"])

        // The read-only token reads policies and cannot change them.
        let read = ["--token-file", cluster.apiReadTokenFile]
        #expect(try cluster.cli(["policy", "list"] + read).contains("autocomplete-economy"))
        let forbidden = try ModelIdentityTests.failingCLI(cluster, ["policy", "rm", "autocomplete-economy"] + read)
        #expect(forbidden.contains("403") && forbidden.contains("admin token"), "\(forbidden)")
    }

    /// Spend by team and tier sums to spend by team: every row lands in one tier, nothing
    /// counted twice, whatever the catalog says of each model.
    @Test func usageByTierAddsUpToUsageByTeam() async throws {
        let cluster = try LocalCluster(extraAgentConfig: "attribution:\n  team: ml")
        defer { cluster.shutdown() }
        try await cluster.start()
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 2), models: ["gpt-4o-mini", "gpt-4.1"], requests: 12, concurrency: 3,
                               formats: [.openaiChat, .anthropicMessages])
        #expect(try await runTraffic(plan: plan, agentURL: cluster.agentURL).failures == 0)
        func cost(_ rows: [[String: Any]]) -> Int { rows.reduce(0) { $0 + ($1["cost_nanousd"] as? Int ?? 0) } }
        let byTeam = try await eventually(until: { $0.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 12 }) {
            Self.json(try cluster.cli(["usage", "--since", "1h", "--by", "team", "--format", "json"])) as? [[String: Any]] ?? []
        }
        let byTier = Self.json(try cluster.cli(["usage", "--since", "1h", "--by", "team,tier", "--format", "json"])) as? [[String: Any]] ?? []
        #expect(cost(byTier) == cost(byTeam) && cost(byTeam) > 0)
        #expect(byTier.allSatisfy { ["premium", "standard", "economy", "untiered"].contains($0["tier"] as? String ?? "") }, "\(byTier)")
        #expect(byTier.allSatisfy { $0["model"] == nil && $0["team"] as? String == "ml" })
        var perTier = 0
        for tier in ["premium", "standard", "economy", "untiered"] {
            perTier += cost(Self.json(try cluster.cli(["usage", "--since", "1h", "--by", "team", "--where", "tier=\(tier)", "--format", "json"])) as? [[String: Any]] ?? [])
        }
        #expect(perTier == cost(byTeam))
        let table = try cluster.cli(["usage", "--since", "1h", "--by", "team,tier"])
        #expect(table.contains("TIER") && table.contains("SHARE"), "\(table)")
        let refused = try ModelIdentityTests.failingCLI(cluster, ["usage", "--where", "tier=gold", "--token-file", cluster.apiTokenFile])
        #expect(refused.contains("expected one of economy, standard, premium, untiered"), "\(refused)")
    }
}
