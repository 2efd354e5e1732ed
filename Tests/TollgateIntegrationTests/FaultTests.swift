import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Exactly-once under crashes: real processes, `kill -9`, and the mock's ledger as the
/// ground truth for every key, model, token class and cost.
@Suite(.serialized) struct FaultTests {
    let models = ["gpt-4o", "gpt-4o-mini", "o4-mini"]

    func wave(_ cluster: LocalCluster, requests: Int) async throws {
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 3), models: models, requests: requests, concurrency: 4)
        let report = try await runTraffic(plan: plan, baseURL: cluster.agentURL.appendingPathComponent("openai"))
        #expect(report.failures == 0, "\(report.failureSamples)")
    }

    func expectExactTotals(_ cluster: LocalCluster, seconds: Double = 30) async throws {
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: cluster.orgSecret), prices: DefaultPriceCatalog.load())
        let differences = try await eventually(seconds: seconds, until: { $0.isEmpty }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return GroundTruth.differences(expected: expected, actual: try GroundTruth.actual(fromUsageJSON: Data(json.utf8)))
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))\nagent log:\n\(cluster.log("agent"))\naggregator log:\n\(cluster.log("aggregator"))")
    }

    /// Usage in every state the agent can hold it — acknowledged, spooled but unacknowledged,
    /// and recorded but not yet cut — when the agent is killed, survives exactly.
    @Test func killingTheAgentLosesAndDuplicatesNothing() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(300))
        defer { cluster.shutdown() }
        try await cluster.start()

        try await wave(cluster, requests: 45)  // shipped and acknowledged
        try await Task.sleep(for: .milliseconds(800))
        cluster.stop("aggregator", signal: SIGKILL)
        try await wave(cluster, requests: 45)  // cut into batches nobody acknowledges
        try await Task.sleep(for: .milliseconds(800))
        try await wave(cluster, requests: 30)  // recorded in events.log, not yet cut
        try await Task.sleep(for: .milliseconds(60))
        cluster.stop("agent", signal: SIGKILL)

        try await cluster.restart("aggregator")
        try await cluster.restart("agent")
        try await wave(cluster, requests: 30)
        try await expectExactTotals(cluster)
        #expect(cluster.log("agent").contains("recovered"))
    }

    /// The aggregator dies mid-traffic and comes back later: the agent keeps proxying,
    /// keeps spooling, and resends; batches applied before the crash are not applied again.
    @Test func killingTheAggregatorMidTrafficLosesAndDuplicatesNothing() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(50))
        defer { cluster.shutdown() }
        try await cluster.start()

        async let traffic: Void = wave(cluster, requests: 240)
        try await Task.sleep(for: .milliseconds(300))
        cluster.stop("aggregator", signal: SIGKILL)
        try await Task.sleep(for: .milliseconds(700))
        try await cluster.restart("aggregator")
        try await traffic
        try await expectExactTotals(cluster)
    }

    /// The connection drops again and again while usage flows.
    @Test func restartingTheAggregatorInALoopLosesAndDuplicatesNothing() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(30))
        defer { cluster.shutdown() }
        try await cluster.start()

        async let traffic: Void = wave(cluster, requests: 300)
        for round in 0..<5 {
            try await Task.sleep(for: .milliseconds(150))
            cluster.stop("aggregator", signal: round.isMultiple(of: 2) ? SIGKILL : SIGTERM)
            try await cluster.restart("aggregator")
        }
        try await traffic
        try await expectExactTotals(cluster)
    }

    /// A long outage: with a tiny spool bound every cut merges the never-sent batches, and
    /// when the aggregator returns the merged usage is still exact.
    @Test func aLongOutageMergesTheSpoolAndLosesNothing() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(20), extraAgentConfig: "spool:\n  max_bytes: 1")
        defer { cluster.shutdown() }
        try await cluster.start()

        cluster.stop("aggregator", signal: SIGKILL)
        for _ in 0..<4 {
            try await wave(cluster, requests: 30)
            try await Task.sleep(for: .milliseconds(100))
        }
        let (data, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("metrics"))
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(MetricsText(metrics)["tollgate_agent_spool_merges_total"] ?? 0 > 0, "\(metrics)")
        #expect(metrics.contains("tollgate_agent_spool_over_bound 1"))
        let (status, _) = try await URLSession.shared.data(from: cluster.adminURL.appendingPathComponent("status"))
        #expect(String(decoding: status, as: UTF8.self).contains("\"spool_over_bound\" : true"))

        try await cluster.restart("aggregator")
        try await expectExactTotals(cluster)
    }
}
