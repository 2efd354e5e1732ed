import Foundation
import TollgateCore

/// What the mock billed per UTC day, provider, API key and model: the source of its admin
/// usage and cost reports. Costs are split by token class the way a cost report lines them
/// up, and each request's parts add up exactly to the cost Tollgate's meter computes for it
/// (the output part takes the rounding), so a faithful meter agrees to the nanodollar.
struct DailyUsage {
    struct Key: Hashable, Comparable {
        var day: Int64
        var provider: MockProvider
        var apiKey: String
        var model: String

        static func < (a: Key, b: Key) -> Bool {
            (a.day, a.provider.rawValue, a.apiKey, a.model) < (b.day, b.provider.rawValue, b.apiKey, b.model)
        }
    }

    struct Tally: Equatable {
        var requests: Int64 = 0
        var tokens = TokenUsage.zero
        var uncachedInputCost: Int64 = 0
        var cachedInputCost: Int64 = 0
        var cacheWriteCost: Int64 = 0
        var outputCost: Int64 = 0

        var totalCost: Int64 { uncachedInputCost + cachedInputCost + cacheWriteCost + outputCost }
        var inputCost: Int64 { uncachedInputCost + cachedInputCost + cacheWriteCost }
    }

    private(set) var tallies: [Key: Tally] = [:]
    let prices: PriceCatalog

    init(prices: PriceCatalog) {
        self.prices = prices
    }

    mutating func add(_ request: BilledRequest, day: Int64, requests: Int64 = 1) {
        let price: ModelPrice = switch prices.lookup(request.model) {
        case .priced(_, let found): found
        case .unpriced(let fallback): fallback
        }
        let tokens = request.tokens
        let total = price.cost(of: tokens).value
        let uncached = price.cost(of: TokenUsage(input: tokens.uncachedInput)).value
        let cached = price.cost(of: TokenUsage(input: tokens.cachedInput, cachedInput: tokens.cachedInput)).value
        let write = price.cost(of: TokenUsage(input: tokens.cacheWrite, cacheWrite: tokens.cacheWrite)).value
        let key = Key(day: day, provider: request.provider, apiKey: request.apiKey, model: request.model)
        var tally = tallies[key, default: Tally()]
        tally.requests += requests
        tally.tokens.input += tokens.input
        tally.tokens.cachedInput += tokens.cachedInput
        tally.tokens.cacheWrite += tokens.cacheWrite
        tally.tokens.output += tokens.output
        tally.tokens.reasoning += tokens.reasoning
        tally.uncachedInputCost += uncached
        tally.cachedInputCost += cached
        tally.cacheWriteCost += write
        tally.outputCost += total - uncached - cached - write
        tallies[key] = tally
    }

    /// The tallies of one provider's days in [from, to), in key order.
    func entries(providers: Set<MockProvider>, from: Int64, to: Int64) -> [(key: Key, tally: Tally)] {
        tallies.filter { providers.contains($0.key.provider) && $0.key.day >= from && $0.key.day < to }
            .sorted { $0.key < $1.key }
            .map { ($0.key, $0.value) }
    }

    static func utcDay(_ date: Date) -> Int64 {
        AdminReportQuery.floorDay(Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}
