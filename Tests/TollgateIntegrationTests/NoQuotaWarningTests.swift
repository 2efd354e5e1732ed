import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An agent the aggregator does not let onto the quota channel (its key is not allowlisted)
/// holds no budget: it says so in its log, naming the fix, in a gauge and at `/status`;
/// an allowed one says it is enforcing.
@Suite(.serialized) struct NoQuotaWarningTests {
    func quotaState(_ admin: URL) async throws -> String? {
        let (data, _) = try await URLSession.shared.data(from: admin.appendingPathComponent("status"))
        let status = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (status?["quota"] as? [String: Any])?["state"] as? String
    }

    @Test func anAgentWithoutBudgetsWarnsAndShowsItsState() async throws {
        let cluster = try LocalCluster(authorizeAgent: false, quotaConfig: "first_snapshot_timeout_ms: 500")
        defer { cluster.shutdown() }
        try await cluster.start()
        let logged = try await eventually(seconds: 10, until: { $0 }) { cluster.log("agent").contains("enforces NO budget") }
        #expect(logged, "\(cluster.log("agent").suffix(2_000))")
        let log = cluster.log("agent")
        #expect(log.contains("quota_listen") && log.contains("authorized_keys_dir"))
        let never = try await BudgetEnforcementTests.metric("tollgate_agent_quota_state{state=\"never_subscribed\"}", at: cluster.adminURL)
        let enforcing = try await BudgetEnforcementTests.metric("tollgate_agent_quota_state{state=\"enforcing\"}", at: cluster.adminURL)
        #expect(never == 1 && enforcing == 0)
        #expect(try await quotaState(cluster.adminURL) == "never_subscribed")
    }

    @Test func anAllowedAgentIsEnforcing() async throws {
        let cluster = try LocalCluster(quotaConfig: "first_snapshot_timeout_ms: 500")
        defer { cluster.shutdown() }
        try await cluster.start()
        let state = try await eventually(seconds: 10, until: { $0 == "enforcing" }) { try await quotaState(cluster.adminURL) }
        #expect(state == "enforcing")
        let enforcing = try await eventually(seconds: 5, until: { $0 == 1 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_state{state=\"enforcing\"}", at: cluster.adminURL)
        }
        #expect(enforcing == 1)
        #expect(!cluster.log("agent").contains("enforces NO budget"))
    }
}
