import Foundation
import TestSupport
import Testing
import TollgateCore

/// Exactly-once per request while the aggregator dies or stays away: one API key per request,
/// each checked on its own against the mock's ledger (`expectEachRequestCountedOnce`). The
/// agent keeps proxying throughout, so every request must be delivered in full and counted
/// exactly once once the aggregator is back.
@Suite(.serialized) struct AggregatorDurabilityTests {
    /// `TOLLGATE_AGGREGATOR_KILLS` (default 5); `scripts/kill-test.sh` runs 20.
    static var kills: Int { ProcessInfo.processInfo.environment["TOLLGATE_AGGREGATOR_KILLS"].flatMap(Int.init) ?? 5 }
    /// `TOLLGATE_OUTAGE_SECONDS` (default 20); `scripts/outage-test.sh` runs 600.
    static var outageSeconds: Int { ProcessInfo.processInfo.environment["TOLLGATE_OUTAGE_SECONDS"].flatMap(Int.init) ?? 20 }

    @Test func killingTheAggregatorUnderLoadLosesNothing() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(250))
        defer { cluster.shutdown() }
        try await cluster.start()
        // 8 threads: enough to keep batches in flight at every kill. A client that gives up
        // (RawHTTP waits 10 s; seen at load averages of 15+ on 2 cores) aborts its stream, and
        // the agent then counts an estimate where the provider billed in full: that is the
        // client's doing, not the kill's, and fails the exact check below.
        let load = PerRequestLoad(cluster: cluster, prefix: "aggkill", threads: 8)
        load.start()
        for round in 0..<Self.kills {
            // Uneven gaps, so kills land at different points of the cut and group-commit cycles;
            // every other round it stays down a while, so batches pile up in flight and in the spool.
            try await Task.sleep(for: .milliseconds(700 + 137 * (round % 5)))
            cluster.stop("aggregator", signal: SIGKILL)
            if round.isMultiple(of: 2) { try await Task.sleep(for: .milliseconds(300 + 97 * (round % 7))) }
            try await cluster.restart("aggregator")
        }
        try await Task.sleep(for: .milliseconds(300))
        let outcomes = load.stop()
        let complete = outcomes.filter(\.complete).count
        let failed = outcomes.filter { !$0.complete }
        #expect(failed.isEmpty, "the agent proxies while the aggregator is away: \(failed.count) requests failed (seconds taken, negative when the connection failed; sent at): \(failed.map { "\($0.seconds) \($0.sentAt.timeIntervalSince1970)" }), first: \(failed.first.map { String($0.response.prefix(600)) } ?? "")")
        #expect(complete > Self.kills * 8, "too little load to mean anything: \(complete) complete responses")
        try await expectEachRequestCountedOnce(cluster, outcomes, exact: true)
        print("aggregator kill test: \(Self.kills) kills, \(outcomes.count) requests, \(complete) received in full, each checked against the ledger")
    }

    /// Steady traffic through an outage of `outageSeconds`: the agent spools, the aggregator
    /// comes back, the backlog drains, and every request is counted exactly once.
    @Test func anOutageUnderSteadyTrafficLosesNothing() async throws {
        let cluster = try LocalCluster(flushInterval: .milliseconds(250))
        defer { cluster.shutdown() }
        try await cluster.start()
        // ~20 requests/s: a day's worth of distinct keys would swamp the check, not the agent.
        let load = PerRequestLoad(cluster: cluster, prefix: "outage", threads: 2, pause: .milliseconds(100))
        load.start()
        try await Task.sleep(for: .seconds(2))
        cluster.stop("aggregator", signal: SIGKILL)
        let before = load.sent
        try await Task.sleep(for: .seconds(Self.outageSeconds))
        let during = load.sent - before
        let held = MetricsText(try await admin(cluster, "metrics"))
        let backlog = Int(held["tollgate_agent_unacked_batches"] ?? 0)
        let spoolBytes = Int(held["tollgate_agent_spool_bytes"] ?? 0)
        #expect(backlog > 0, "the agent spools while the aggregator is away")

        let clock = ContinuousClock()
        let back = clock.now
        try await cluster.restart("aggregator")
        _ = try await eventually(seconds: 120, until: { $0 == 0 }) {
            MetricsText(try await admin(cluster, "metrics"))["tollgate_agent_unacked_batches"] ?? -1
        }
        let drained = back.duration(to: clock.now)
        try await Task.sleep(for: .seconds(1))
        let outcomes = load.stop()
        let complete = outcomes.filter(\.complete).count
        #expect(complete == outcomes.count, "the agent proxies while the aggregator is away: \(outcomes.count - complete) requests failed")
        try await expectEachRequestCountedOnce(cluster, outcomes, exact: true)
        print("outage test: \(Self.outageSeconds) s outage, \(outcomes.count) requests (\(during) during the outage), \(complete) received in full, each checked against the ledger; \(backlog) batches (\(spoolBytes) bytes) spooled, drained \(drained) after the aggregator's restart")
    }
}
