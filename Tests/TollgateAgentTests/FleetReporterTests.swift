import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAgent

@Suite struct FleetReporterTests {
    static let settings = FleetReporter.Settings(agentID: "a1", name: "ci-7", interval: .seconds(5), staleAfter: .seconds(30), enforcement: .enforce)

    @Test func reportsAtOnceThenEveryIntervalAndWhenTheQuotaConditionChanges() {
        let clock = ManualClock()
        let service = clock.serviceClock
        var reporter = FleetReporter(settings: Self.settings)
        let never = FleetReporter.QuotaView.none
        #expect(reporter.isDue(now: service.now, quota: never))  // at start
        reporter.sent(now: service.now, quota: never)
        #expect(!reporter.isDue(now: service.now, quota: never))
        clock.advance(by: .seconds(1))
        // The first snapshot arrived: say so now, not in four seconds.
        let fresh = FleetReporter.QuotaView(version: 3, age: .milliseconds(20))
        #expect(reporter.isDue(now: service.now, quota: fresh))
        reporter.sent(now: service.now, quota: fresh)
        clock.advance(by: .seconds(4))
        #expect(!reporter.isDue(now: service.now, quota: FleetReporter.QuotaView(version: 5, age: .seconds(1))))
        clock.advance(by: .seconds(1))
        #expect(reporter.isDue(now: service.now, quota: FleetReporter.QuotaView(version: 5, age: .seconds(1))))
        reporter.sent(now: service.now, quota: fresh)
        #expect(reporter.isDue(now: service.now, quota: FleetReporter.QuotaView(version: 5, age: .seconds(31))))  // gone stale
    }

    @Test func aFailedSendIsRetriedSoonNotOnEveryTurn() {
        let clock = ManualClock()
        let service = clock.serviceClock
        var reporter = FleetReporter(settings: Self.settings)
        reporter.failed(now: service.now)
        #expect(!reporter.isDue(now: service.now, quota: .none))
        clock.advance(by: FleetReporter.retryDelay)
        #expect(reporter.isDue(now: service.now, quota: .none))
        reporter.sent(now: service.now, quota: .none)
        reporter.reconnected()
        #expect(reporter.isDue(now: service.now, quota: .none))  // a new socket: report on it at once
    }

    @Test func theReportCarriesWhatTheAggregatorJudgesBy() throws {
        let reporter = FleetReporter(settings: Self.settings)
        let report = reporter.report(quota: FleetReporter.QuotaView(version: 7, age: .milliseconds(1_500)),
                                     shipping: .init(ackedSeq: 12, spoolBatches: 2, spoolBytes: 4_096, spoolOverBound: false), unixMs: 99)
        #expect(report == AgentReportMessage(agentID: "a1", name: "ci-7", version: TollgateVersion.current, ackedSeq: 12, spoolBatches: 2,
                                             spoolBytes: 4_096, quotaVersion: 7, quotaAgeMs: 1_500, enforcement: .enforce,
                                             staleAfterMs: 30_000, reportIntervalMs: 5_000, sentUnixMs: 99))
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(report)) == report)
        #expect(reporter.report(quota: .none, shipping: .init(), unixMs: 0).quotaAgeMs == nil)
    }
}
