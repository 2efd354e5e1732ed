import Foundation
import TollgateCore
import TollgateProviders

/// Everything known about one proxied call once its response has ended (or was cut off).
struct CompletedExchange {
    var request: ProviderRequest
    var attribution = Attribution()
    var keyID: String
    var keyHint: String
    var status: Int
    var tap: TapResult
    /// Size of the request body, for estimating input when a stream never reports usage.
    var requestBodyBytes: Int
    var completedAt: Date
}

/// Turns a completed exchange into a priced usage event. Pure, so every rule about what
/// counts (errors, unknown models, missing usage) is unit-tested without sockets.
struct ExchangeMeter {
    var prices: PriceCatalog

    struct Outcome {
        var event: UsageEvent
        /// Metric labels for whatever made the numbers less than exact.
        var problems: [String]
    }

    /// Who spends, as far as the request tells: what the quota gate matches budgets
    /// against, and what the meter records once the response names the exact model.
    static func dimensions(of request: ProviderRequest, keyID: String, keyHint: String, attribution: Attribution) -> Dimensions {
        var dimensions = Dimensions()
        dimensions.keyID = keyID
        dimensions.keyHint = keyHint
        dimensions.provider = request.provider.rawValue
        dimensions.endpoint = request.endpoint.rawValue
        dimensions.model = request.model ?? "unknown"
        attribution.apply(to: &dimensions)
        return dimensions
    }

    func meter(_ exchange: CompletedExchange) -> Outcome {
        var dimensions = Self.dimensions(of: exchange.request, keyID: exchange.keyID, keyHint: exchange.keyHint, attribution: exchange.attribution)

        var flags: UsageEvent.Flags = []
        var problems = exchange.tap.problems.filter { $0 != TapProblem.noUsage.rawValue || exchange.status < 400 }
        var tokens = TokenUsage.zero
        var model = exchange.request.model
        var serviceTier = exchange.request.serviceTier ?? .standard
        var webSearchRequests: Int64 = 0

        if exchange.status >= 400 { flags.insert(.error) }
        if let usage = exchange.tap.usage {
            tokens = usage.tokens
            model = usage.model ?? model
            serviceTier = usage.serviceTier ?? serviceTier
            webSearchRequests = usage.webSearchRequests
        } else if exchange.status < 400 {
            // Billed but never reported (client cancelled, stream cut, or a provider that
            // omits usage): estimate rather than record it as free, and say so.
            tokens = TokenUsage(input: estimatedTokens(characters: exchange.requestBodyBytes), output: exchange.tap.estimatedOutputTokens)
            flags.insert(.estimated)
            if !problems.contains("usage_missing") { problems.append("usage_missing") }
        }

        dimensions.model = model ?? "unknown"
        let cost: Nanodollars
        let billable = BillableUsage(tokens: tokens, serviceTier: serviceTier, webSearchRequests: webSearchRequests)
        switch prices.lookup(dimensions.model) {
        case .priced(_, let price):
            cost = price.cost(of: billable)
        case .unpriced(let fallback):
            cost = fallback.cost(of: billable)
            if tokens != .zero { flags.insert(.unpriced) }
        }
        let event = UsageEvent(unixTime: Int64(exchange.completedAt.timeIntervalSince1970), dimensions: dimensions,
                               tokens: tokens, cost: cost, flags: flags)
        return Outcome(event: event, problems: problems)
    }
}
