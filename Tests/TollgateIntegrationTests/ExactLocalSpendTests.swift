import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The finding of issue #15: a 3-request budget with requests 0.7 s apart gave
/// `200 200 429 200 429 429`, because the agent counted its own spend twice for a moment
/// (locally, and in the pushed state) and guessed by time when to stop. With watermarks
/// the agent knows exactly which of its batches the pushed state includes: exactly the
/// first three pass, every time, at any pace. Real aggregator, agent and mock processes;
/// the default 250 ms flush interval, as the user had.
@Suite(.serialized) struct ExactLocalSpendTests {
    func statuses(_ cluster: LocalCluster, team: String, count: Int, gap: Duration) async throws -> [Int] {
        var codes: [Int] = []
        for index in 0..<count {
            if index > 0 && gap > .zero { try await Task.sleep(for: gap) }
            let reply = try await BudgetEnforcementTests.chat(cluster.agentURL, team: team, prompt: "request \(index)")
            codes.append(reply.status)
            if reply.status == 429 {
                #expect(reply.body.contains("no requests left") || reply.body.contains("is used up"), "\(reply.body)")
                #expect(!reply.body.contains("max_tokens"), "a request budget gives no max_tokens advice: \(reply.body)")
            }
        }
        return codes
    }

    @Test func aThreeRequestBudgetAdmitsExactlyThreeAtAnyPace() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(250))
        defer { cluster.shutdown() }
        try await cluster.start()
        // One budget per run, so every run starts from 0 in one cluster.
        let runs: [(team: String, gap: Duration)] = [
            ("paced-1", .milliseconds(700)), ("paced-2", .milliseconds(700)), ("paced-3", .milliseconds(700)),
            ("burst-1", .zero), ("burst-2", .zero), ("burst-3", .zero),
        ]
        for run in runs {
            _ = try cluster.cli(["budget", "set", run.team, "--selector", "team=\(run.team)", "--limit", "3requests", "--window", "day",
                                 "--token-file", cluster.apiTokenFile])
        }
        let held = try await eventually(seconds: 10, until: { $0 == Int64(runs.count) }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        #expect(held == Int64(runs.count))
        for run in runs {
            let codes = try await statuses(cluster, team: run.team, count: 6, gap: run.gap)
            #expect(codes == [200, 200, 200, 429, 429, 429], "\(run.team): \(codes)")
        }
    }

    /// `--action block --hard-ceiling 150` on a 2-request budget blocks at 3 requests (150 %),
    /// and `budget show` says so.
    @Test func aHardCeilingOnABlockBudgetBlocksAtTheCeiling() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(250))
        defer { cluster.shutdown() }
        try await cluster.start()
        _ = try cluster.cli(["budget", "set", "ceiling", "--selector", "team=ceiling", "--limit", "2requests", "--window", "day",
                             "--action", "block", "--hard-ceiling", "150", "--token-file", cluster.apiTokenFile])
        _ = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        let codes = try await statuses(cluster, team: "ceiling", count: 5, gap: .milliseconds(300))
        #expect(codes == [200, 200, 200, 429, 429])
        let shown = try cluster.cli(["budget", "show", "ceiling", "--token-file", cluster.apiTokenFile])
        #expect(shown.contains("blocks at 150%") && shown.contains("BLOCKED"), "\(shown)")
    }

    /// `budget set --mode observe`: stored with the budget, sent to agents, which never block
    /// on it and count what it would have refused; their reports bring the count to `budget
    /// list` and `show`, and an agent killed and restarted (counting from 0 again) does not
    /// lower it. Switched to `--mode enforce`, the same budget refuses the next request.
    @Test func anObserveBudgetNeverBlocksAndCountsWhatItWouldHave() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(250), reportInterval: .milliseconds(500))
        defer { cluster.shutdown() }
        try await cluster.start()
        _ = try cluster.cli(["budget", "set", "trial", "--selector", "team=trial", "--limit", "2requests", "--window", "day",
                             "--mode", "observe", "--token-file", cluster.apiTokenFile])
        _ = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        let codes = try await statuses(cluster, team: "trial", count: 5, gap: .milliseconds(300))
        #expect(codes == [200, 200, 200, 200, 200])
        let wouldBlock = try await BudgetEnforcementTests.metric("tollgate_agent_quota_would_block_total{budget=\"trial\"}", at: cluster.adminURL)
        #expect(wouldBlock == 3)
        // The agent's next report brings its count to the aggregator.
        func listed(_ expected: String) async throws -> String {
            var listed = ""
            for _ in 0..<50 where !listed.contains(expected) {
                try await Task.sleep(for: .milliseconds(200))
                listed = try cluster.cli(["budget", "list", "--token-file", cluster.apiTokenFile])
            }
            return listed
        }
        let list = try await listed("observe (would have refused 3)")
        #expect(list.contains("observe (would have refused 3)"), "\(list)")
        let json = try cluster.cli(["budget", "list", "--format", "json", "--token-file", cluster.apiTokenFile])
        #expect(json.contains(#""would_block" : 3"#) || json.contains(#""would_block":3"#), "\(json)")
        let shown = try cluster.cli(["budget", "show", "trial", "--token-file", cluster.apiTokenFile])
        #expect(shown.contains("observe: never blocks") && shown.contains("observe (would have refused 3)"), "\(shown)")

        // kill -9 and start again: the new process counts from 0, the fleet's figure goes on from 3.
        let agent = LocalCluster.agentName(0)
        cluster.stop(agent, signal: SIGKILL)
        try await cluster.restart(agent)
        _ = try await eventually(seconds: 10, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        #expect(try await statuses(cluster, team: "trial", count: 1, gap: .zero) == [200])
        let afterRestart = try await listed("observe (would have refused 4)")
        #expect(afterRestart.contains("observe (would have refused 4)"), "\(afterRestart)")

        // Enforced from now on: the spend counted so far stays, so the next request is refused.
        _ = try cluster.cli(["budget", "set", "trial", "--selector", "team=trial", "--limit", "2requests", "--window", "day",
                             "--mode", "enforce", "--token-file", cluster.apiTokenFile])
        // Once the agent holds the change (its /status shows the budget's mode)...
        let held = try await eventually(seconds: 10, until: { $0 }) {
            let (body, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("status"))
            return String(decoding: body, as: UTF8.self).contains(#""mode" : "enforce""#)
        }
        #expect(held)
        // ...the next request is refused.
        let next = try await BudgetEnforcementTests.chat(cluster.agentURL, team: "trial", prompt: "after the switch")
        #expect(next.status == 429, "\(next.body)")
        let enforced = try cluster.cli(["budget", "list", "--token-file", cluster.apiTokenFile])
        #expect(enforced.contains("BLOCKED") && !enforced.contains("observe"), "\(enforced)")
    }
}
