import Foundation
import Testing
import TestSupport
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

/// What a routed request records, and the budget use a downgrade is decided from.
@Suite struct PolicyMeteringTests {
    let meter = ExchangeMeter(prices: DefaultPriceCatalog.load())

    func exchange(status: Int = 200, routedFrom: String?) -> CompletedExchange {
        let usage = ExtractedUsage(model: "claude-haiku-4-5-20251001", tokens: TokenUsage(input: 1_000, output: 100))
        return CompletedExchange(
            request: ProviderRequest(provider: .anthropic, endpoint: .messages, model: "claude-haiku-4-5"),
            keyID: "kid", keyHint: "", status: status, tap: TapResult(usage: status == 200 ? usage : nil, outputCharacters: 0, problems: []),
            requestBodyBytes: 400, completedAt: Date(timeIntervalSince1970: 120), routedFrom: routedFrom)
    }

    /// Priced at the served model; the savings are the same tokens at the requested model's price.
    @Test func aRoutedRequestRecordsBothModelsAndWhatRoutingAvoided() {
        let event = meter.meter(exchange(routedFrom: "claude-opus-4-5")).event
        #expect(event.dimensions.requestedModel == "claude-opus-4-5")
        #expect(event.dimensions.model == "claude-haiku-4-5")
        #expect(event.dimensions.servedModel == "claude-haiku-4-5-20251001")
        #expect(event.flags == .routed)
        // Haiku 4.5: $1/M in, $5/M out; Opus 4.5: $5/M in, $25/M out.
        #expect(event.cost == Nanodollars(1_000 * 1_000 + 100 * 5_000))
        #expect(event.routingSavings == Nanodollars(1_000 * 5_000 + 100 * 25_000 - (1_000 * 1_000 + 100 * 5_000)))
        let counters = UsageCounters(event)
        #expect(counters.routed == 1 && counters.routingSavings == event.routingSavings)
    }

    @Test func anUnroutedRequestAndARoutedErrorSaveNothing() {
        let plain = meter.meter(exchange(routedFrom: nil)).event
        #expect(plain.flags.isEmpty && plain.routingSavings == .zero && plain.dimensions.requestedModel == "claude-haiku-4-5")
        let failed = meter.meter(exchange(status: 500, routedFrom: "claude-opus-4-5")).event
        #expect(failed.flags == [.routed, .error] && failed.routingSavings == .zero)
    }

    /// Pushed spend of the window plus this agent's own not yet counted, against the limit;
    /// reservations are not spend.
    @Test func budgetUseIsPushedPlusLocalSpend() {
        let clock = ManualClock()
        let book = QuotaBook(agentID: "me", clock: clock.serviceClock)
        let budget = Budget(id: "team-usd", selector: .all, unit: .requests, limit: 10, period: .hour)
        let noon: Int64 = 1_795_435_200
        let status = BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 6, now: noon)
        _ = book.apply(QuotaUpdateMessage(version: 1, isSnapshot: true, budgets: [status], issuedAtMilliseconds: 0))
        #expect(book.budgetUse(of: "team-usd", nowUnix: noon) == PolicySet.BudgetUse(spent: 6, limit: 10))
        book.settle(.none, spent: UsageEvent(unixTime: noon, dimensions: Dimensions(), tokens: TokenUsage(input: 1), cost: .zero))
        _ = book.reserve([status]) { _ in 1 }
        #expect(book.budgetUse(of: "team-usd", nowUnix: noon) == PolicySet.BudgetUse(spent: 7, limit: 10))
        #expect(book.budgetUse(of: "team-usd", nowUnix: noon)?.reaches(percent: 70) == true)
        #expect(book.budgetUse(of: "team-usd", nowUnix: noon)?.reaches(percent: 71) == false)
        #expect(book.budgetUse(of: "other", nowUnix: noon) == nil)
        // After the window ended (no new status yet), spend starts again from 0.
        #expect(book.budgetUse(of: "team-usd", nowUnix: noon + 7_200) == PolicySet.BudgetUse(spent: 0, limit: 10))
    }
}
