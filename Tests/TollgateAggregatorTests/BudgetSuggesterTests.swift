import Foundation
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Suggested budgets from a store whose daily spend is known.
@Suite struct BudgetSuggesterTests {
    static let today: Int64 = 20_000
    static let dollar = Nanodollars.perDollar

    /// ml: 60 days, 55 at $10 and 5 at $20 (and $1,000 today, which must not count);
    /// web: its last 10 days only, $5 each; qa: one day at $0 (errors only).
    static func store(_ directory: String) throws -> UsageStore {
        let store = try UsageStore(directory: directory)
        var cells: [Cell] = []
        for back in 1...60 {
            let dollars: Int64 = back % 12 == 0 ? 20 : 10
            cells.append(AnomalyMonitorTests.cell(day: today - Int64(back), minute: 600, team: "ml", dollars: dollars * 100))
            if back <= 10 { cells.append(AnomalyMonitorTests.cell(day: today - Int64(back), minute: 700, team: "web", dollars: 500)) }
        }
        // Just outside the 60-day baseline: must not count.
        cells.append(AnomalyMonitorTests.cell(day: today - 61, minute: 600, team: "ml", dollars: 100_000))
        cells.append(AnomalyMonitorTests.cell(day: today, minute: 30, team: "ml", dollars: 100_000))
        cells.append(AnomalyMonitorTests.cell(day: today - 3, minute: 30, team: "qa", dollars: 0))
        #expect(try store.apply(UsageBatchMessage(agentID: "agent-1", seq: 1, floorSeq: 0, cells: cells)) == .applied)
        return store
    }

    @Test func headroomTimesTheP95OfCompleteDaysPerTeam() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(directory)
            _ = try store.setBudget(Budget(id: "web-cap", selector: try BudgetSelector(parsing: "team=web"), unit: .usd, limit: 3 * Self.dollar, period: .day),
                                now: Self.today * 86_400)
            let suggester = BudgetSuggester(dimension: .team, period: .day, unit: .usd, baselineDays: 60, headroomPercent: 130)
            let report = try suggester.read(store, now: Self.today * 86_400 + 3_600)
            #expect(report.from == (Self.today - 60) * 86_400 && report.until == Self.today * 86_400)
            #expect(report.suggestions.map(\.value) == ["ml", "web"])
            let ml = report.suggestions[0]
            #expect(ml.windows == 60 && ml.p95 == 20 * Self.dollar && ml.max == 20 * Self.dollar)
            #expect(ml.mean == (55 * 10 + 5 * 20) * Self.dollar / 60)
            #expect(ml.limit == 26 * Self.dollar && ml.selector == "team=ml" && ml.budgetID == "team-ml-day")
            #expect(ml.existingBudgetID == nil)
            let web = report.suggestions[1]
            // From its first day on: 10 windows, not 60 with 50 zeros.
            #expect(web.windows == 10 && web.p95 == 5 * Self.dollar && web.limit == 650 * Self.dollar / 100)
            #expect(web.existingBudgetID == "web-cap" && web.existingLimit == 3 * Self.dollar)
        }
    }

    @Test func weeksTokensAndRounding() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(directory)
            // Tokens: each cell has none in this fixture; requests: one per cell.
            let weekly = BudgetSuggester(dimension: .team, period: .week, unit: .requests, baselineDays: 28, headroomPercent: 150)
            let report = try weekly.read(store, now: Self.today * 86_400)
            // 2024-10-04 is a Friday: the complete weeks in 28 days are the 4 Monday-to-Sunday weeks before this one.
            #expect(report.until == UsageBucket.week.start(ofMinute: Self.today * 1_440) * 60)
            #expect(report.suggestions.first { $0.value == "ml" }?.windows == 4)
            #expect(report.suggestions.first { $0.value == "ml" }?.p95 == 7)
            #expect(report.suggestions.first { $0.value == "ml" }?.limit == 11)  // 7 × 150 % = 10.5, rounded up
            // A dollar figure rounds up to the next cent.
            let usd = BudgetSuggester(dimension: .team, period: .day, unit: .usd, baselineDays: 60, headroomPercent: 133)
            #expect(usd.limit(p95: 1_000_000_001) == 1_340_000_000)
        }
    }

    @Test func badParametersAreRefusedNamingWhatIsExpected() {
        let cases: [([String: String], String)] = [
            (["by": "colour"], "colour"), (["by": "team,model"], "one dimension"), (["window": "minute"], "hour, day, week or month"),
            (["baseline": "60"], "60d or 8w"), (["baseline": "500d"], "400d"), (["headroom": "90"], "from 100 to 1000"),
            (["unit": "eur"], "usd, tokens or requests"), (["since": "1d"], "unknown parameter 'since'"),
        ]
        for (query, expected) in cases {
            #expect { try APIRouter.suggester(query) } throws: { "\(($0 as? APIRouter.SuggestionRequestError)?.message ?? "\($0)")".contains(expected) }
        }
        #expect(APIRouter.baselineDays("8w") == 56)
        #expect((try? APIRouter.suggester([:]))?.headroomPercent == 130)
    }

    @Test func idsAreValidBudgetIDs() throws {
        let id = BudgetSuggester.budgetID(.useCase, "Code Review/Bot", .week)
        #expect(id == "use-case-code-review-bot-week")
        try Budget.validateID(id)
        try Budget.validateID(BudgetSuggester.budgetID(.team, String(repeating: "x", count: 300), .month))
    }
}
