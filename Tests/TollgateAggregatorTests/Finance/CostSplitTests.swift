import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// The FOCUS export bills each token class its part of a cell's stored cost: the parts must
/// add up to that cost to the nanodollar, whatever the counts and prices.
@Suite struct CostSplitTests {
    static let gpt41 = TokenRates(input: 2_000_000_000, cachedInput: 500_000_000, output: 8_000_000_000)
    static let sonnet = TokenRates(input: 3_000_000_000, cachedInput: 300_000_000, cacheWrite: 3_750_000_000, cacheWrite1h: 6_000_000_000,
                                   output: 15_000_000_000)

    @Test func partsAddUpToTheStoredCostForAnyCountsAndCosts() {
        var random = SplitMix64(seed: 0xF0C05)
        for _ in 0..<2_000 {
            let input = Int64.random(in: 0...5_000_000, using: &random)
            let cached = Int64.random(in: 0...input, using: &random)
            let writes = Int64.random(in: 0...(input - cached), using: &random)
            let output = Int64.random(in: 0...2_000_000, using: &random)
            let tokens = TokenUsage(input: input, cachedInput: cached, cacheWrite: writes, cacheWrite1h: Int64.random(in: 0...writes, using: &random),
                                    output: output, reasoning: Int64.random(in: 0...output, using: &random))
            let rates = Bool.random(using: &random) ? Self.gpt41 : Self.sonnet
            // The stored cost need not be what the list price gives (tiers, fees, old prices).
            let cost = Nanodollars(Int64.random(in: 0...100_000_000_000, using: &random))
            let parts = CostSplit.split(tokens: tokens, cost: cost, rates: rates)
            #expect(parts.reduce(Nanodollars.zero) { $0 + $1.billedCost } == cost, "\(tokens) \(cost)")
            // Every token is on exactly one row.
            #expect(parts.reduce(0) { $0 + $1.tokens } == input + output || cost != .zero && input + output == 0)
            #expect(parts.allSatisfy { $0.billedCost.value >= 0 })
        }
    }

    /// At the catalog's own price, each class's part is its list cost within rounding.
    @Test func atListPriceEachPartIsItsListCost() {
        let tokens = TokenUsage(input: 120_000, cachedInput: 20_000, cacheWrite: 10_000, cacheWrite1h: 4_000, output: 3_000, reasoning: 1_000)
        let price = ModelPrice(provider: "anthropic", standard: Self.sonnet)
        let cost = price.cost(of: tokens)
        let parts = CostSplit.split(tokens: tokens, cost: cost, rates: Self.sonnet)
        #expect(parts.map(\.tokenClass) == [.input, .cachedInput, .cacheWrite, .cacheWrite1h, .output, .reasoning])
        #expect(parts.map(\.tokens) == [90_000, 20_000, 6_000, 4_000, 2_000, 1_000])
        for part in parts { #expect(abs(part.billedCost.value - part.listCost.value) <= 1, "\(part)") }
        // 90k × $3 + 20k × $0.30 + 6k × $3.75 + 4k × $6 + 3k × $15 per million.
        #expect(cost == Nanodollars(270_000_000 + 6_000_000 + 22_500_000 + 24_000_000 + 45_000_000))
    }

    /// Rounding leaves at most a few nanodollars; they go to the class with the largest list
    /// cost, the first in class order on a tie.
    @Test func theRemainderGoesToTheHeaviestClass() {
        let tokens = TokenUsage(input: 1, output: 1)
        let parts = CostSplit.split(tokens: tokens, cost: Nanodollars(7), rates: TokenRates(input: 1_000_000_000, output: 1_000_000_000))
        #expect(parts.map(\.billedCost.value) == [4, 3])
        let heavier = CostSplit.split(tokens: tokens, cost: Nanodollars(7), rates: Self.gpt41)
        #expect(heavier.map(\.billedCost.value) == [1, 6])
    }

    @Test func aCostWithoutTokensIsKeptOnOneRow() {
        let parts = CostSplit.split(tokens: .zero, cost: Nanodollars(10_000_000), rates: Self.gpt41)
        #expect(parts.count == 1 && parts[0].billedCost == Nanodollars(10_000_000) && parts[0].tokens == 0)
        #expect(CostSplit.split(tokens: .zero, cost: .zero, rates: Self.gpt41).isEmpty)
        // Free tokens (a zero rate) still carry the cost.
        let free = CostSplit.split(tokens: TokenUsage(input: 10), cost: Nanodollars(5), rates: TokenRates(input: 0, output: 0))
        #expect(free.map(\.billedCost.value) == [5])
    }
}
