import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

@Suite struct AgentStateTests {
    static let clock = ServiceClock.system
    static let t0 = clock.now

    static func report(quotaAgeMs: Int64?, staleAfterMs: Int64 = 30_000, intervalMs: Int64 = 5_000) -> AgentReportMessage {
        AgentReportMessage(agentID: "a1", name: "host-a", version: "0.1.0", quotaAgeMs: quotaAgeMs, staleAfterMs: staleAfterMs,
                           reportIntervalMs: intervalMs, sentUnixMs: 0)
    }

    static func at(_ seconds: Double) -> ServiceClock.Instant { t0.advanced(by: .milliseconds(Int64(seconds * 1000))) }

    /// (quota age in the report, seconds since the report arrived, expected state)
    @Test(arguments: [
        (Optional<Int64>.some(1_000), 0.0, AgentState.enforcing),
        (1_000, 14.9, .enforcing),        // 15.9 s old, stale only after 30 s
        (1_000, 15.1, .offline),          // three 5 s intervals without a report
        (25_000, 4.0, .enforcing),        // 29 s: not yet
        (25_000, 5.5, .stale),            // 30.5 s: it has aged since the agent said 25 s
        (40_000, 0.0, .stale),
        (nil, 0.0, .neverSubscribed),
        (nil, 14.0, .neverSubscribed),
        (nil, 16.0, .offline),
    ])
    func stateFollowsTheReportAndTheTimeSince(_ quotaAgeMs: Int64?, _ secondsLater: Double, _ expected: AgentState) {
        let state = AgentState.of(report: Self.report(quotaAgeMs: quotaAgeMs), reportAt: Self.t0, batchAt: nil, now: Self.at(secondsLater))
        #expect(state == expected)
    }

    @Test func withoutAReportBatchesMakeItUnknownAndSilenceOffline() {
        #expect(AgentState.of(report: nil, reportAt: nil, batchAt: nil, now: Self.t0) == .offline)
        #expect(AgentState.of(report: nil, reportAt: nil, batchAt: Self.t0, now: Self.at(3)) == .unknown)
        #expect(AgentState.of(report: nil, reportAt: nil, batchAt: Self.t0, now: Self.at(16)) == .offline)
        // A report kept from before a restart (no instant) does not count as heard.
        #expect(AgentState.of(report: Self.report(quotaAgeMs: 0), reportAt: nil, batchAt: nil, now: Self.t0) == .offline)
        // Silent reporter still shipping: unknown, not enforcing on stale word.
        #expect(AgentState.of(report: Self.report(quotaAgeMs: 0), reportAt: Self.t0, batchAt: Self.at(19), now: Self.at(20)) == .unknown)
        // A reporter's last batch (its flush as it stopped) does not outlive its own silence
        // window: three 5 s intervals, not the 15 s allowed to agents that never report.
        let fast = Self.report(quotaAgeMs: 0, intervalMs: 300)
        #expect(AgentState.of(report: fast, reportAt: Self.t0, batchAt: Self.at(0.1), now: Self.at(1.05)) == .unknown)
        #expect(AgentState.of(report: fast, reportAt: Self.t0, batchAt: Self.at(0.1), now: Self.at(1.2)) == .offline)
    }

    @Test func offlineComesAfterThreeIntervalsAndNeverBeforeASecond() {
        #expect(AgentState.offlineAfter(reportInterval: .seconds(5)) == .seconds(15))
        #expect(AgentState.offlineAfter(reportInterval: .milliseconds(100)) == .seconds(1))
        let fast = Self.report(quotaAgeMs: 0, intervalMs: 100)
        #expect(AgentState.of(report: fast, reportAt: Self.t0, batchAt: nil, now: Self.at(0.9)) == .enforcing)
        #expect(AgentState.of(report: fast, reportAt: Self.t0, batchAt: nil, now: Self.at(1.1)) == .offline)
    }

    @Test func theRosterMergesReportsAndBatchesAndCountsEveryState() throws {
        var roster = FleetRoster(capacity: 2)
        _ = try roster.receive(Self.report(quotaAgeMs: 500), keyName: "ci-7", address: "10.0.0.7", at: Self.t0, unixMs: 1_000)
        try roster.batch(agentID: "a1", appliedSeq: 9, at: Self.at(1), unixMs: 2_000)
        try roster.batch(agentID: "a1", appliedSeq: 7, at: Self.at(2), unixMs: 3_000)  // a duplicate's last seq never goes back
        try roster.batch(agentID: "old", appliedSeq: 3, at: Self.at(2), unixMs: 3_000)
        // Full: a third agent is refused, known ones still update.
        #expect(throws: FleetRoster.Refusal.full(capacity: 2)) {
            try roster.receive(AgentReportMessage(agentID: "third", name: "c", version: "0.1.0", staleAfterMs: 1, reportIntervalMs: 1, sentUnixMs: 0),
                               keyName: nil, address: nil, at: Self.at(2), unixMs: 3_000)
        }
        _ = try roster.receive(Self.report(quotaAgeMs: 100), keyName: nil, address: nil, at: Self.at(3), unixMs: 4_000)
        let record = try #require(roster.records["a1"])
        #expect(record.keyName == "ci-7" && record.address == "10.0.0.7")  // kept when a report carries none

        let views = roster.views(now: Self.at(4), unixMs: 5_000)
        #expect(views.map(\.agentID) == ["old", "a1"])  // by name: "" (never reported) before "host-a"
        let a1 = try #require(views.last)
        #expect(a1.state == .enforcing && a1.appliedSeq == 9 && a1.name == "host-a" && a1.version == "0.1.0")
        #expect(a1.lastBatchAgeMs == 2_000 && a1.lastReportAgeMs == 1_000)
        #expect(a1.quotaAgeMs == 1_100)  // 100 ms when sent, 1 s ago
        #expect(views.first?.state == .unknown)

        let counts = roster.counts(now: Self.at(4))
        #expect(counts == [.enforcing: 1, .unknown: 1, .stale: 0, .neverSubscribed: 0, .offline: 0])
        #expect(roster.counts(now: Self.at(60))[.offline] == 2)
    }

    /// A record is stored when who the agent is changes, else at most once a minute.
    @Test func theRosterAsksForAWriteOnNewsOrOnceAMinute() throws {
        var roster = FleetRoster()
        let report = Self.report(quotaAgeMs: 0)
        #expect(try roster.receive(report, keyName: "k", address: "10.0.0.1", at: Self.t0, unixMs: 0) != nil)  // first sight
        #expect(try roster.receive(report, keyName: "k", address: "10.0.0.1", at: Self.at(5), unixMs: 0) == nil)
        #expect(try roster.receive(report, keyName: "k", address: "10.0.0.2", at: Self.at(10), unixMs: 0) != nil)  // moved
        var upgraded = report
        upgraded.version = "0.2.0"
        #expect(try roster.receive(upgraded, keyName: "k", address: "10.0.0.2", at: Self.at(15), unixMs: 0) != nil)
        #expect(try roster.receive(upgraded, keyName: "k", address: "10.0.0.2", at: Self.at(74), unixMs: 0) == nil)
        #expect(try roster.receive(upgraded, keyName: "k", address: "10.0.0.2", at: Self.at(75), unixMs: 0) != nil)  // a minute on
    }
}
