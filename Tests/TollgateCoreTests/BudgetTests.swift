import Foundation
import Testing
import TollgateCore

@Suite struct BudgetTests {
    static func dimensions(team: String = "ml", env: String = "ci", model: String = "gpt-4o") -> Dimensions {
        var dimensions = Dimensions()
        dimensions.team = team
        dimensions.environment = env
        dimensions.model = model
        return dimensions
    }

    @Test func selectorsParsePrintAndMatch() throws {
        let selector = try BudgetSelector(parsing: "env=ci, team=ml")
        #expect(selector.description == "team=ml,env=ci")
        #expect(try BudgetSelector(parsing: selector.description) == selector)
        #expect(selector.matches(Self.dimensions()))
        #expect(!selector.matches(Self.dimensions(env: "prod")))
        #expect(!selector.matches(Dimensions()))
        let all = try BudgetSelector(parsing: "*")
        #expect(all.isAll && all.description == "*" && all.matches(Dimensions()))
        let use = try BudgetSelector(parsing: "use_case=eval")
        var dimensions = Dimensions()
        dimensions.useCase = "eval"
        #expect(use.matches(dimensions))
    }

    @Test(arguments: ["", "team", "team=", "colour=red", "team=a,team=b", "team=ml,"])
    func badSelectorsAreRefusedWithTheirReason(text: String) {
        #expect(throws: BudgetError.self) { try BudgetSelector(parsing: text) }
    }

    @Test func unitsCountTheRightCounter() {
        var counters = UsageCounters()
        counters.requests = 3
        counters.tokens = TokenUsage(input: 1_000, cachedInput: 400, cacheWrite: 0, output: 200, reasoning: 50)
        counters.cost = Nanodollars(12_345)
        #expect(BudgetUnit.usd.amount(of: counters) == 12_345)
        #expect(BudgetUnit.tokens.amount(of: counters) == 1_200)  // cached is inside input, reasoning inside output
        #expect(BudgetUnit.requests.amount(of: counters) == 3)
    }

    @Test(arguments: [
        ("100usd", BudgetUnit.usd, Int64(100_000_000_000)),
        ("$12.50", .usd, 12_500_000_000),
        ("0.000000001usd", .usd, 1),
        ("2000000tokens", .tokens, 2_000_000),
        ("2Mtokens", .tokens, 2_000_000),
        ("1.5ktokens", .tokens, 1_500),
        ("5000requests", .requests, 5_000),
        ("5_000 requests", .requests, 5_000),
    ])
    func amountsParse(text: String, unit: BudgetUnit, value: Int64) throws {
        let amount = try BudgetAmount(parsing: text)
        #expect(amount == BudgetAmount(unit: unit, value: value))
        #expect(try BudgetAmount(parsing: amount.description) == amount)
    }

    @Test(arguments: ["100", "usd", "-5usd", "1.5tokens", "0.0000000001usd", "12eur", "99999999999999usd", "1.2.3usd"])
    func badAmountsAreRefused(text: String) {
        #expect(throws: BudgetError.self) { try BudgetAmount(parsing: text) }
    }

    @Test func budgetsValidateWithMessagesNamingTheField() {
        let good = Budget(id: "ml-daily", selector: .all, unit: .usd, limit: 100, period: .day)
        #expect(throws: Never.self) { try good.validate() }
        var bad = good
        bad.id = "ML Daily"
        #expect { try bad.validate() } throws: { "\($0)".contains("budget id") }
        bad = good
        bad.timeZone = "Mars/Olympus"
        #expect { try bad.validate() } throws: { "\($0)".contains("time_zone") }
        bad = good
        bad.thresholds = [90, 50]
        #expect { try bad.validate() } throws: { "\($0)".contains("thresholds") }
        bad = good
        bad.hardCeilingPercent = 100
        #expect { try bad.validate() } throws: { "\($0)".contains("hard_ceiling_percent") }
    }

    @Test func budgetJSONUsesStableSnakeCaseNamesAndDefaults() throws {
        let json = #"{"id":"ml","selector":"team=ml","unit":"usd","limit":5,"period":"week","time_zone":"Europe/Paris","hard_ceiling_percent":150,"action":"alert"}"#
        let budget = try JSONDecoder().decode(Budget.self, from: Data(json.utf8))
        #expect(budget.thresholds == [50, 75, 90] && budget.owner == "" && budget.hardCeilingPercent == 150)
        let encoded = String(decoding: try JSONEncoder().encode(budget), as: UTF8.self)
        #expect(encoded.contains("\"time_zone\"") && encoded.contains("\"hard_ceiling_percent\"") && encoded.contains("\"selector\":\"team=ml\""))
        #expect(try JSONDecoder().decode(Budget.self, from: Data(encoded.utf8)) == budget)
    }

    // MARK: - evaluate

    static let day = BudgetWindow(start: 86_400, end: 2 * 86_400)
    static let noon: Int64 = 86_400 + 43_200

    static func budget(_ action: BudgetAction = .block, ceiling: Int? = nil) -> Budget {
        Budget(id: "b", selector: .all, unit: .requests, limit: 1_000, period: .day, action: action, hardCeilingPercent: ceiling, owner: "alice@example.com")
    }

    @Test(arguments: [
        (Int64(0), BudgetState.ok), (499, .ok), (500, .warning(thresholdPercent: 50)), (749, .warning(thresholdPercent: 50)),
        (750, .warning(thresholdPercent: 75)), (900, .warning(thresholdPercent: 90)), (999, .warning(thresholdPercent: 90)),
        (1_000, .blocked), (5_000, .blocked),
    ])
    func blockingBudgetStates(spent: Int64, state: BudgetState) {
        let status = BudgetStatus.evaluate(budget: Self.budget(), exemptions: [], spent: spent, now: Self.noon)
        #expect(status.state == state)
        #expect(status.isBlocking == (state == .blocked))
        #expect(status.blockAt == 1_000 && status.remaining == max(0, 1_000 - spent))
        #expect(status.windowStart == Self.day.start && status.windowEnd == Self.day.end)
        #expect(status.owner == "alice@example.com")
    }

    @Test func alertBudgetsBlockOnlyAtTheirHardCeiling() {
        let alertOnly = BudgetStatus.evaluate(budget: Self.budget(.alert), exemptions: [], spent: 3_000, now: Self.noon)
        #expect(alertOnly.state == .overLimit && !alertOnly.isBlocking && alertOnly.blockAt == nil && alertOnly.remaining == nil)
        let ceiling = Self.budget(.alert, ceiling: 150)
        #expect(BudgetStatus.evaluate(budget: ceiling, exemptions: [], spent: 1_200, now: Self.noon).state == .overLimit)
        let blocked = BudgetStatus.evaluate(budget: ceiling, exemptions: [], spent: 1_500, now: Self.noon)
        #expect(blocked.state == .blocked && blocked.blockAt == 1_500)
        #expect(BudgetStatus.crossedLevels(budget: ceiling, effectiveLimit: 1_000, spent: 1_500) == [50, 75, 90, 100, 150])
        #expect(BudgetStatus.crossedLevels(budget: ceiling, effectiveLimit: 1_000, spent: 0).isEmpty)
    }

    @Test func activeExemptionsRaiseTheLimitAndExpiredOnesDoNot() {
        func exemption(_ limit: Int64, _ from: Int64, _ until: Int64) -> BudgetExemption {
            BudgetExemption(budgetID: "b", limit: limit, from: from, until: until, reason: "launch", author: "bob", createdAt: from)
        }
        let exemptions = [exemption(2_000, Self.noon - 60, Self.noon + 60), exemption(9_000, 0, Self.noon),
                          exemption(500, 0, Self.noon + 60)]
        let raised = BudgetStatus.evaluate(budget: Self.budget(), exemptions: exemptions, spent: 1_500, now: Self.noon)
        #expect(raised.effectiveLimit == 2_000 && raised.limit == 1_000)
        #expect(raised.state == .warning(thresholdPercent: 75) && raised.blockAt == 2_000)
        let later = BudgetStatus.evaluate(budget: Self.budget(), exemptions: exemptions, spent: 1_500, now: Self.noon + 60)
        #expect(later.effectiveLimit == 1_000 && later.state == .blocked)
        let otherBudget = exemptions.map { var copy = $0; copy.budgetID = "other"; return copy }
        #expect(BudgetStatus.evaluate(budget: Self.budget(), exemptions: otherBudget, spent: 1_500, now: Self.noon).effectiveLimit == 1_000)
    }

    @Test func statusJSONIsFlatAndRoundTrips() throws {
        let status = BudgetStatus.evaluate(budget: Self.budget(), exemptions: [], spent: 800, now: Self.noon)
        let data = try JSONEncoder().encode(status)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["state"] as? String == "warning")
        #expect(object?["threshold_percent"] as? Int == 75)
        #expect(object?["is_blocking"] as? Bool == false)
        #expect(object?["block_at"] as? Int == 1_000)
        #expect(try JSONDecoder().decode(BudgetStatus.self, from: data) == status)
    }
}
