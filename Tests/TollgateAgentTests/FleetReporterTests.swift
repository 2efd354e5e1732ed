import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

@Suite struct FleetReporterTests {
    static let settings = FleetReporter.Settings(agentID: "a1", name: "ci-7", interval: .seconds(5), staleAfter: .seconds(30), enforcement: .enforce)

    @Test func reportsAtOnceThenEveryIntervalAndWhenTheQuotaConditionChanges() {
        let clock = ManualClock()
        let service = clock.serviceClock
        var reporter = FleetReporter(settings: Self.settings)
        let never = QuotaView.none
        #expect(reporter.isDue(now: service.now, quota: never))  // at start
        reporter.sent(now: service.now, quota: never)
        #expect(!reporter.isDue(now: service.now, quota: never))
        clock.advance(by: .seconds(1))
        // The first snapshot arrived: say so now, not in four seconds.
        let fresh = QuotaView(version: 3, age: .milliseconds(20), staleAfter: .seconds(30))
        #expect(reporter.isDue(now: service.now, quota: fresh))
        reporter.sent(now: service.now, quota: fresh)
        clock.advance(by: .seconds(4))
        #expect(!reporter.isDue(now: service.now, quota: QuotaView(version: 5, age: .seconds(1), staleAfter: .seconds(30))))
        clock.advance(by: .seconds(1))
        #expect(reporter.isDue(now: service.now, quota: QuotaView(version: 5, age: .seconds(1), staleAfter: .seconds(30))))
        reporter.sent(now: service.now, quota: fresh)
        #expect(reporter.isDue(now: service.now, quota: QuotaView(version: 5, age: .seconds(31), staleAfter: .seconds(30))))  // gone stale
    }

    /// A spool that stops (or starts again) taking writes is reported at once: `tollgate
    /// agents` shows a full disk within moments, not at the next interval.
    @Test func aSpoolThatCannotBeWrittenIsReportedAtOnce() {
        let clock = ManualClock()
        let service = clock.serviceClock
        var reporter = FleetReporter(settings: Self.settings)
        reporter.sent(now: service.now, quota: .none)
        clock.advance(by: .seconds(1))
        #expect(!reporter.isDue(now: service.now, quota: .none, spoolUnwritable: false))
        #expect(reporter.isDue(now: service.now, quota: .none, spoolUnwritable: true))
        reporter.sent(now: service.now, quota: .none, spoolUnwritable: true)
        #expect(!reporter.isDue(now: service.now, quota: .none, spoolUnwritable: true))
        #expect(reporter.isDue(now: service.now, quota: .none, spoolUnwritable: false))  // writable again
        let report = reporter.report(quota: .none, shipping: .init(spoolUnwritable: true), unixMs: 1)
        #expect(report.spoolUnwritable)
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
        let report = reporter.report(quota: QuotaView(version: 7, age: .milliseconds(1_500), staleAfter: .seconds(30)),
                                     shipping: .init(ackedSeq: 12, spoolBatches: 2, spoolBytes: 4_096, spoolOverBound: false), unixMs: 99)
        #expect(report == AgentReportMessage(agentID: "a1", name: "ci-7", version: TollgateVersion.current, ackedSeq: 12, spoolBatches: 2,
                                             spoolBytes: 4_096, quotaVersion: 7, quotaAgeMs: 1_500, enforcement: .enforce,
                                             staleAfterMs: 30_000, reportIntervalMs: 5_000, sentUnixMs: 99))
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(report)) == report)
        #expect(reporter.report(quota: .none, shipping: .init(), unixMs: 0).quotaAgeMs == nil)
    }

    /// The fleet report and `/status` read one `QuotaView` of the book, so they agree on the
    /// quota channel's state, version and age at every stage (never, fresh, at the line,
    /// stale), and the report carries the book's would-block counts and where they start.
    @Test func theReportAndStatusAgreeOnTheQuotaState() throws {
        let clock = ManualClock()
        let book = QuotaBook(agentID: "a1", clock: clock.serviceClock)
        let settings = QuotaGate.Settings()  // stale_after 30 s, as the reporter's
        let reporter = FleetReporter(settings: Self.settings)
        func agree(_ expected: QuotaChannelHealth.State, _ note: Comment) {
            let status = QuotaStatus(book: book, settings: settings)
            let view = book.view(staleAfter: settings.staleAfter)
            let report = reporter.report(quota: view, shipping: .init(), unixMs: 0)
            #expect(view.state == expected && status.state == expected.rawValue, note)
            #expect(status.version == report.quotaVersion && status.lastUpdateAgoMs == report.quotaAgeMs, note)
            #expect(reporter.isDue(now: clock.serviceClock.now, quota: view), note)  // never sent: always due
        }
        agree(.neverSubscribed, "nothing received")
        var trial = Budget(id: "trial", selector: .all, unit: .requests, limit: 1, period: .day)
        trial.mode = .observe
        let noon = Int64(clock.serviceClock.date.timeIntervalSince1970)
        let status = BudgetStatus.evaluate(budget: trial, exemptions: [], spent: 1, now: noon)
        #expect(book.apply(QuotaUpdateMessage(version: 4, isSnapshot: true, budgets: [status], issuedAtMilliseconds: 0)) == .applied)
        agree(.enforcing, "fresh")
        clock.advance(by: .seconds(30))
        agree(.enforcing, "at the line, not past it")
        clock.advance(by: .milliseconds(1))
        agree(.stale, "past stale_after")

        let gate = QuotaGate(book: book, settings: settings, prices: DefaultPriceCatalog.load())
        let request = try #require(ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil,
                                                            body: Data(#"{"model":"gpt-4o","messages":[]}"#.utf8)))
        for _ in 0..<2 { _ = gate.decide(request, dimensions: Dimensions(), requestBodyBytes: 30) }
        let report = reporter.report(quota: book.view(staleAfter: settings.staleAfter), shipping: .init(), unixMs: 0)
        #expect(report.wouldBlock == [BudgetWouldBlock(budgetID: "trial", windowStart: status.windowStart, requests: 2)])
        #expect(report.startedUnixMs == book.startedUnixMs && book.startedUnixMs > 0)
    }
}
