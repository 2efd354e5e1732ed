import Foundation
import TestSupport
import Testing
import TollgateAggregator
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The fleet view end to end: two real agents report to a real aggregator over CurveZMQ,
/// one with a quota channel and one whose quota endpoint leads nowhere, and `tollgate
/// agents` (table and JSON) and `/metrics` tell them apart, then see one go offline.
@Suite(.serialized) struct AgentsListTests {
    func agents(_ cluster: LocalCluster) throws -> [AgentView] {
        let json = try cluster.cli(["agents", "--format", "json", "--token-file", cluster.apiTokenFile])
        return try JSONDecoder().decode([AgentView].self, from: Data(json.utf8))
    }

    func fleetMetric(_ cluster: LocalCluster, _ state: AgentState) async throws -> Double? {
        let (data, _) = try await URLSession.shared.data(from: cluster.apiURL.appendingPathComponent("metrics"))
        return MetricsText(String(decoding: data, as: UTF8.self))["tollgate_fleet_agents{state=\"\(state.rawValue)\"}"]
    }

    @Test func agentsShowsEachAgentsStateSeqAndBacklogAndNoticesOneGoOffline() async throws {
        // Nothing listens there: agent-2 never hears a budget.
        let nowhere = "tcp://127.0.0.1:\(try freePort())"
        let cluster = try LocalCluster(agents: 2, reportInterval: .milliseconds(300), quotaEndpoints: [1: nowhere])
        defer { cluster.shutdown() }
        try await cluster.start()

        for agent in cluster.agentURLs {
            let (status, _, _) = try await BudgetEnforcementTests.chat(agent, team: "fleet", prompt: "hello fleet")
            #expect(status == 200)
        }
        let listed = try await eventually(until: { (agents: [AgentView]) in
            // The ack reaches the agent's next report a moment after the batch is applied.
            agents.map(\.state) == [.enforcing, .neverSubscribed]
                && agents.allSatisfy { $0.appliedSeq >= 1 && $0.spoolBatches == 0 && $0.ackedSeq == $0.appliedSeq }
        }) { try agents(cluster) }
        #expect(listed.map(\.name) == ["agent", "agent-2"])
        #expect(listed.map(\.state) == [.enforcing, .neverSubscribed], "\(listed)")
        for (index, agent) in listed.enumerated() {
            #expect(agent.version == TollgateVersion.current)
            #expect(agent.address == "127.0.0.1")
            #expect(agent.keyName == "test-\(LocalCluster.agentName(index))")  // the allowlist name of its CurveZMQ key
            #expect(agent.appliedSeq >= 1 && agent.lastBatchAgeMs != nil)
            #expect(agent.ackedSeq == agent.appliedSeq)
            #expect(agent.enforcement == "enforce")
        }
        #expect(listed[0].quotaAgeMs != nil && listed[0].quotaVersion ?? 0 > 0)
        #expect(listed[1].quotaAgeMs == nil)

        let table = try cluster.cli(["agents", "--token-file", cluster.apiTokenFile])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.first == "2 agents: 1 enforcing, 1 never_subscribed", "\(table)")
        #expect(lines.count == 4 && lines[1].hasPrefix("NAME"), "\(table)")
        #expect(lines[2].hasPrefix("agent ") && lines[2].contains("enforcing") && lines[2].contains("127.0.0.1"), "\(table)")
        #expect(lines[3].hasPrefix("agent-2 ") && lines[3].contains("never_subscribed") && lines[3].contains("never"), "\(table)")
        let filtered = try cluster.cli(["agents", "--state", "never_subscribed", "--token-file", cluster.apiTokenFile])
        #expect(filtered.hasPrefix("1 agent: 1 never_subscribed"), "\(filtered)")

        #expect(try await fleetMetric(cluster, .enforcing) == 1)
        #expect(try await fleetMetric(cluster, .neverSubscribed) == 1)
        #expect(try await fleetMetric(cluster, .offline) == 0)

        // Three report intervals (at least a second) of silence: offline, still listed.
        cluster.stop("agent-2")
        let after = try await eventually(seconds: 10, until: { (agents: [AgentView]) in agents.last?.state == .offline }) { try agents(cluster) }
        #expect(after.map(\.state) == [.enforcing, .offline])
        #expect(try await fleetMetric(cluster, .offline) == 1)
    }
}
