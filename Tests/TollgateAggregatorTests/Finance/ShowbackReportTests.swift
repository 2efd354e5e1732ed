import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// `GET /v1/report` over two months of usage written through the store's ingest path at
/// chosen minutes: every figure is checked against sums of the cells written.
@Suite struct ShowbackReportTests {
    static let november = try! ReportMonth(parsing: "2026-11")
    static let october = november.previous

    struct Spend {
        var team: String, model: String, useCase: String, minute: Int64, cost: Int64, requests: Int64 = 4, estimated: Int64 = 0
    }

    static let written: [Spend] = [
        Spend(team: "ml", model: "gpt-4.1", useCase: "chat", minute: november.startMinute, cost: 5_000_000_000, estimated: 1),
        Spend(team: "ml", model: "gpt-4o-mini", useCase: "batch", minute: november.startMinute + 1_440 * 10, cost: 1_000_000_000),
        Spend(team: "ml", model: "claude-sonnet-4-5", useCase: "review", minute: november.startMinute + 1_440 * 12, cost: 250_000_000),
        Spend(team: "ml", model: "gemini-2.5-pro", useCase: "search", minute: november.startMinute + 1_440 * 13, cost: 125_000_000),
        Spend(team: "web", model: "gpt-4.1", useCase: "chat", minute: november.endMinute - 1, cost: 2_000_000_000),
        Spend(team: "", model: "gpt-4.1", useCase: "", minute: november.startMinute + 60, cost: 500_000_000),
        // The first minute of December and the last of October belong to neither November.
        Spend(team: "ml", model: "gpt-4.1", useCase: "chat", minute: november.endMinute, cost: 9_000_000_000),
        Spend(team: "ml", model: "gpt-4.1", useCase: "chat", minute: november.startMinute - 1, cost: 4_000_000_000),
        Spend(team: "web", model: "gpt-4.1", useCase: "chat", minute: october.startMinute, cost: 4_000_000_000),
        Spend(team: "ops", model: "gpt-4.1", useCase: "chat", minute: october.startMinute + 5, cost: 1_000_000_000),
    ]

    static func store(_ directory: String) throws -> UsageStore {
        let store = try UsageStore(directory: directory)
        let cells = written.enumerated().map { index, spend in
            var cell = UsageStoreTests.cell(minute: spend.minute, key: "k\(index % 3)", model: spend.model, requests: spend.requests, cost: spend.cost)
            cell.key.dimensions.team = spend.team
            cell.key.dimensions.useCase = spend.useCase
            cell.counters.estimated = spend.estimated
            return cell
        }
        _ = try store.apply(UsageStoreTests.batch(1, cells))
        func budget(_ id: String, _ selector: String, _ limit: Int64, _ period: BudgetPeriod, unit: BudgetUnit = .usd) throws {
            _ = try store.setBudget(Budget(id: id, selector: try BudgetSelector(parsing: selector), unit: unit, limit: limit, period: period),
                                    now: november.startMinute * 60)
        }
        try budget("ml-daily", "team=ml", 1_000_000_000, .day)
        try budget("ml-monthly", "team=ml", 50_000_000_000, .month)  // looser than 30 × $1: not the one shown
        try budget("web-weekly", "team=web", 700_000_000, .week)
        try budget("web-tokens", "team=web", 1_000, .day, unit: .tokens)  // not money: left out
        try budget("research", "team=research", 2_000_000_000, .month)  // no spend at all
        try budget("org", "*", 100_000_000_000, .month)
        try budget("ml-gpt", "team=ml,model=gpt-4.1", 1, .month)  // not exactly team=ml
        return store
    }

    /// Ground truth: the cells written, summed per team over a month.
    static func spent(_ team: String?, in month: ReportMonth) -> Int64 {
        written.filter { (team == nil || $0.team == team) && $0.minute >= month.startMinute && $0.minute < month.endMinute }
            .reduce(0) { $0 + $1.cost }
    }

    func report(_ router: APIRouter, _ query: String) throws -> ShowbackReport {
        let response = router.respond(method: .GET, uri: "/v1/report?\(query)", authorization: BudgetAPITests.auth)
        #expect(response.status == .ok, "\(response.body)")
        return try JSONDecoder().decode(ShowbackReport.self, from: Data(response.body.utf8))
    }

    @Test func aMonthByTeamAgainstWhatWasWritten() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(directory)
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: Self.november.endMinute * 60))
            let report = try report(router, "month=2026-11&by=team")
            #expect(report.month == "2026-11" && report.previousMonth == "2026-10" && report.by == "team")
            #expect(report.rows.map(\.value) == ["ml", "web", "", "ops", "research"])
            let total = Self.spent(nil, in: Self.november)
            #expect(total == 8_875_000_000)
            #expect(report.total.spendNanousd == total)
            #expect(report.rows.reduce(0) { $0 + $1.spendNanousd } == total)
            #expect(report.total.previousSpendNanousd == Self.spent(nil, in: Self.october))
            for row in report.rows {
                #expect(row.spendNanousd == Self.spent(row.value, in: Self.november), "\(row.value)")
                #expect(row.previousSpendNanousd == Self.spent(row.value, in: Self.october), "\(row.value)")
                #expect(row.changeNanousd == row.spendNanousd - row.previousSpendNanousd)
            }
            let ml = try #require(report.rows.first { $0.value == "ml" })
            #expect(ml.spendNanousd == 6_375_000_000 && ml.previousSpendNanousd == 4_000_000_000)
            #expect(ml.sharePercent == 71.83)  // 6.375 / 8.875
            #expect(ml.changePercent == 59.38)  // +2.375 on 4
            #expect(ml.topModels.map(\.name) == ["gpt-4.1", "gpt-4o-mini", "claude-sonnet-4-5"], "three, largest first")
            #expect(ml.topUseCases.map(\.name) == ["chat", "batch", "review"])
            // One of the four requests in the $5 cell was estimated: a quarter of it.
            #expect(ml.estimatedNanousd == 1_250_000_000 && ml.estimatedPercent == 19.61)
            // The tightest USD budget on exactly team=ml, scaled: $1 a day × 30 days.
            #expect(ml.budget?.id == "ml-daily" && ml.budget?.monthLimitNanousd == 30_000_000_000)
            #expect(ml.budget?.varianceNanousd == 6_375_000_000 - 30_000_000_000 && ml.budget?.usedPercent == 21.25)
            let web = try #require(report.rows.first { $0.value == "web" })
            #expect(web.budget?.id == "web-weekly" && web.budget?.monthLimitNanousd == 3_000_000_000, "$0.70 a week × 30 / 7")
            #expect(web.changePercent == -50)
            let ops = try #require(report.rows.first { $0.value == "ops" })
            #expect(ops.spendNanousd == 0 && ops.changePercent == -100 && ops.budget == nil)
            let research = try #require(report.rows.first { $0.value == "research" })
            #expect(research.spendNanousd == 0 && research.changePercent == nil && research.budget?.usedPercent == 0)
            let untagged = try #require(report.rows.first { $0.value == "" })
            #expect(untagged.changePercent == nil, "nothing the month before")
            #expect(report.total.budget?.id == "org" && report.total.sharePercent == 100)
        }
    }

    @Test func anEmptyMonthIsAReportOfZeros() throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let report = try report(router, "month=2031-02")
            #expect(report.by == "team" && report.rows.isEmpty)
            #expect(report.total.spendNanousd == 0 && report.total.previousSpendNanousd == 0 && report.total.sharePercent == 0)
        }
    }

    @Test(arguments: [
        ("month=2026-13", "expected YYYY-MM", "bad_month"),
        ("month=nov", "expected YYYY-MM", "bad_month"),
        ("by=team", "month is required", "bad_month"),
        ("month=2026-11&by=tema", "unknown dimension 'tema'", "unknown_dimension"),
        ("month=2026-11&by=team,model", "one dimension", "unknown_dimension"),
        ("month=2026-11&team=ml", "unknown parameter 'team'", "bad_parameter"),
    ])
    func badParametersAreRefusedAndCounted(_ query: String, _ message: String, _ reason: String) throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .GET, uri: "/v1/report?\(query)", authorization: BudgetAPITests.auth)
            #expect(response.status == .badRequest)
            #expect((BudgetAPITests.object(response)["error"] as? String)?.contains(message) == true, "\(response.body)")
            #expect(MetricsText(router.metrics.exposition())[#"tollgate_api_rejected_total{reason="\#(reason)"}"#] == 1)
        }
    }

    @Test func financeEndpointsNeedTheToken() throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            for uri in ["/v1/report?month=2026-11", "/v1/export/focus?from=2026-11-01&to=2026-12-01"] {
                #expect(router.respond(method: .GET, uri: uri).status == .unauthorized)
                #expect(router.respond(method: .GET, uri: uri, authorization: "Bearer wrong").status == .unauthorized)
            }
        }
    }
}
