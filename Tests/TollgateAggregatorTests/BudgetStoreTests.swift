import Foundation
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Spend per budget per window, exactly once, across duplicates, restarts and window ends.
@Suite struct BudgetStoreTests {
    static func cell(minute: Int64, team: String = "ml", cost: Int64 = 1_000, requests: Int64 = 1) -> Cell {
        var dimensions = Dimensions()
        dimensions.team = team
        dimensions.model = "gpt-4o"
        var counters = UsageCounters()
        counters.requests = requests
        counters.tokens = TokenUsage(input: 100, output: 10)
        counters.cost = Nanodollars(cost)
        return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
    }

    static func batch(_ seq: UInt64, agent: String = "agent-1", _ cells: [Cell]) -> UsageBatchMessage {
        UsageBatchMessage(agentID: agent, seq: seq, floorSeq: 0, cells: cells)
    }

    /// Minute 1,000 of day 0 (UTC): 16:40.
    static let minute: Int64 = 1_000
    static let now: Int64 = minute * 60 + 30

    static func budget(_ id: String = "ml-daily", selector: String = "team=ml", unit: BudgetUnit = .usd, period: BudgetPeriod = .day) -> Budget {
        Budget(id: id, selector: try! BudgetSelector(parsing: selector), unit: unit, limit: 10_000, period: period)
    }

    @Test func matchingCellsAddToTheirBudgetsWindowInTheSameCommit() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            #expect(try store.setBudget(Self.budget(), now: Self.now) == .created)
            #expect(try store.setBudget(Self.budget("org", selector: "*", unit: .requests), now: Self.now) == .created)
            var spend: [BudgetSpend] = []
            let cells = [Self.cell(minute: Self.minute, cost: 300), Self.cell(minute: Self.minute + 1, cost: 200),
                         Self.cell(minute: Self.minute, team: "web", cost: 5_000)]
            #expect(try store.apply(Self.batch(1, cells), budgetSpend: &spend) == .applied)
            #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 500)
            #expect(try store.spent(budgetID: "org", windowStart: 0) == 3)
            #expect(Set(spend.map(\.budgetID)) == ["ml-daily", "org"])
            #expect(spend.first { $0.budgetID == "ml-daily" }?.spent == 500)
        }
    }

    @Test func aResentBatchDoesNotCountTwiceAndSpendSurvivesARestart() throws {
        try withTemporaryDirectory { directory in
            let first = Self.batch(1, [Self.cell(minute: Self.minute, cost: 700)])
            do {
                let store = try UsageStore(directory: directory)
                _ = try store.setBudget(Self.budget(), now: Self.now)
                #expect(try store.apply(first) == .applied)
                var spend: [BudgetSpend] = []
                #expect(try store.apply(first, budgetSpend: &spend) == .duplicate(lastSeq: 1))
                #expect(spend.isEmpty)
                #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 700)
            }
            let reopened = try UsageStore(directory: directory)
            #expect(reopened.budget(id: "ml-daily")?.budget == Self.budget())
            #expect(try reopened.apply(first) == .duplicate(lastSeq: 1))
            #expect(try reopened.apply(Self.batch(2, [Self.cell(minute: Self.minute, cost: 1)])) == .applied)
            #expect(try reopened.spent(budgetID: "ml-daily", windowStart: 0) == 701)
        }
    }

    @Test func theNextWindowStartsFromZero() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            _ = try store.setBudget(Self.budget(period: .hour), now: Self.now)
            // 16:59 and 17:00 fall in different hours.
            let lastOfHour: Int64 = 17 * 60 - 1
            var spend: [BudgetSpend] = []
            #expect(try store.apply(Self.batch(1, [Self.cell(minute: lastOfHour, cost: 40), Self.cell(minute: lastOfHour + 1, cost: 2)]),
                                    budgetSpend: &spend) == .applied)
            #expect(try store.spent(budgetID: "ml-daily", windowStart: 16 * 3_600) == 40)
            #expect(try store.spent(budgetID: "ml-daily", windowStart: 17 * 3_600) == 2)
            #expect(spend.map(\.window) == [BudgetWindow(start: 16 * 3_600, end: 17 * 3_600), BudgetWindow(start: 17 * 3_600, end: 18 * 3_600)])
        }
    }

    @Test func creatingOrRetargetingABudgetRecountsItsCurrentWindow() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let cells = [Self.cell(minute: Self.minute - 10, cost: 100), Self.cell(minute: Self.minute, team: "web", cost: 20),
                         Self.cell(minute: -5, cost: 9_999)]  // yesterday: another window
            #expect(try store.apply(Self.batch(1, cells)) == .applied)
            #expect(try store.setBudget(Self.budget(), now: Self.now) == .created)
            #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 100)

            var limitOnly = Self.budget()
            limitOnly.limit = 50
            #expect(try store.setBudget(limitOnly, now: Self.now) == .updated(recomputed: false))
            #expect(try store.setBudget(limitOnly, now: Self.now) == .unchanged)

            var retargeted = limitOnly
            retargeted.selector = try BudgetSelector(parsing: "team=web")
            #expect(try store.setBudget(retargeted, now: Self.now) == .updated(recomputed: true))
            #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 20)
        }
    }

    /// A budget set mid-day is recounted as a usage query reads: hour cells for the hours
    /// rolled up, minute cells for the open one. Every unit agrees with the cells themselves.
    @Test func aRecountOverRolledUpHoursEqualsTheSumOfItsMinuteCells() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            // Two teams across hours 0–16 of day 0, one late-minute pair in the open hour.
            let cells: [Cell] = (0..<40).map { (index: Int) -> Cell in
                let team = index % 3 == 0 ? "web" : "ml"
                return Self.cell(minute: Int64(index * 25), team: team, cost: Int64(100 + index), requests: Int64(1 + index % 4))
            }
            #expect(try store.apply(Self.batch(1, Array(cells.prefix(20)))) == .applied)
            #expect(try store.apply(Self.batch(2, Array(cells.dropFirst(20)))) == .applied)
            try store.rollUp(now: Self.now)
            let state = store.rollup.withLockedValue { $0 }
            #expect(state.hoursComplete >= 16 * 60, "hours 0–15 are in hour cells")

            for (index, (selector, unit)) in [("team=ml", BudgetUnit.usd), ("team=web", .requests), ("*", .tokens), ("team=ml,model=gpt-4o", .requests)].enumerated() {
                let budget = Self.budget("recount-\(index)", selector: selector, unit: unit)
                #expect(try store.setBudget(budget, now: Self.now) == .created)
                let matching = cells.filter { budget.selector.matches($0.key.dimensions) }
                let expected = matching.reduce(Int64(0)) { sum, cell in sum + unit.amount(of: cell.counters) }
                #expect(expected > 0)
                #expect(try store.spent(budgetID: budget.id, windowStart: 0) == expected, "\(selector) in \(unit)")
            }
        }
    }

    @Test func removingABudgetKeepsItsExemptionsAndCellScansStayClean() throws {
        try withTemporaryDirectory { directory in
            let exemption = BudgetExemption(budgetID: "ml-daily", limit: 20_000, from: 0, until: 86_400, reason: "launch", author: "bob", createdAt: 10)
            try Self.removeWithExemption(directory, exemption)
            let reopened = try UsageStore(directory: directory)
            #expect(reopened.budgets().map(\.budget.id) == ["ml-daily2"])
            #expect(reopened.exemptions(budgetID: "ml-daily") == [exemption])
        }
    }

    static func removeWithExemption(_ directory: String, _ exemption: BudgetExemption) throws {
        let store = try UsageStore(directory: directory)
        _ = try store.setBudget(Self.budget(), now: Self.now)
        _ = try store.setBudget(Self.budget("ml-daily2"), now: Self.now)
        try store.addExemption(exemption)
        #expect(throws: BudgetStoreError.noSuchBudget("nope")) {
            try store.addExemption(BudgetExemption(budgetID: "nope", limit: 1, from: 0, until: 1, reason: "r", author: "a", createdAt: 0))
        }
        #expect(try store.apply(Self.batch(1, [Self.cell(minute: Self.minute, cost: 5)])) == .applied)
        // Budget keys never show up in usage queries, even over all time.
        let all = try store.query(fromMinute: Int64.min, toMinute: Int64.max, groupBy: [])
        #expect(all.count == 1 && all[0].counters.cost == Nanodollars(5))

        #expect(try store.removeBudget(id: "ml-daily"))
        #expect(try !store.removeBudget(id: "ml-daily"))
        #expect(store.budget(id: "ml-daily") == nil)
        #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 0)
        #expect(try store.spent(budgetID: "ml-daily2", windowStart: 0) == 5)  // a longer id sharing the prefix is untouched
        #expect(store.exemptions(budgetID: "ml-daily") == [exemption])
    }

    @Test func alertMarksAreDurable() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try UsageStore(directory: directory)
                _ = try store.setBudget(Self.budget(), now: Self.now)
                #expect(try store.markAlertFired(budgetID: "ml-daily", windowStart: 0, level: 50, at: 1))
                #expect(try !store.markAlertFired(budgetID: "ml-daily", windowStart: 0, level: 50, at: 2))
                #expect(try store.markAlertFired(budgetID: "ml-daily", windowStart: 86_400, level: 50, at: 2))
            }
            let reopened = try UsageStore(directory: directory)
            #expect(try !reopened.markAlertFired(budgetID: "ml-daily", windowStart: 0, level: 50, at: 3))
        }
    }

    /// Removal drops the budget's spend and alert marks with one range tombstone each (no
    /// scan under the writer lock): a budget set again under the same id starts clean,
    /// before and after the tombstones reach a table file.
    @Test func aBudgetSetAgainAfterRemovalStartsWithoutItsOldSpendOrAlertMarks() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try UsageStore(directory: directory)
                _ = try store.setBudget(Self.budget(), now: Self.now)
                #expect(try store.apply(Self.batch(1, [Self.cell(minute: Self.minute, cost: 70)])) == .applied)
                #expect(try store.markAlertFired(budgetID: "ml-daily", windowStart: 0, level: 50, at: 1))
                #expect(try store.removeBudget(id: "ml-daily"))
                #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 0)

                var retargeted = Self.budget()
                retargeted.selector = try BudgetSelector(parsing: "team=web")
                #expect(try store.setBudget(retargeted, now: Self.now) == .created)
                #expect(try store.spent(budgetID: "ml-daily", windowStart: 0) == 0)
                #expect(try store.markAlertFired(budgetID: "ml-daily", windowStart: 0, level: 50, at: 2))
                try store.flushMemtable()
            }
            let reopened = try UsageStore(directory: directory)
            #expect(try reopened.spent(budgetID: "ml-daily", windowStart: 0) == 0)
            #expect(try !reopened.markAlertFired(budgetID: "ml-daily", windowStart: 0, level: 50, at: 3))
        }
    }

    @Test func invalidBudgetsAreRefusedBeforeAnythingIsWritten() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            var bad = Self.budget()
            bad.timeZone = "Nowhere/Special"
            #expect(throws: BudgetError.self) { try store.setBudget(bad, now: Self.now) }
            #expect(store.budgets().isEmpty)
        }
    }
}
