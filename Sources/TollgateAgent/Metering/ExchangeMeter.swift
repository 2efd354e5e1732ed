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
    /// against, and what every record of this exchange carries, blocked, failed, cut or
    /// complete. The model is the requested name's canonical model, never the served
    /// snapshot: the gate sees only the request, and a budget counts only what it can block.
    func dimensions(of request: ProviderRequest, keyID: String, keyHint: String, attribution: Attribution) -> Dimensions {
        var dimensions = Dimensions()
        dimensions.keyID = keyID
        dimensions.keyHint = keyHint
        dimensions.provider = request.provider.rawValue
        dimensions.endpoint = request.endpoint.rawValue
        dimensions.requestedModel = request.model ?? ""
        dimensions.model = request.model.map { prices.canonicalModel($0) } ?? "unknown"
        attribution.apply(to: &dimensions)
        return dimensions
    }

    func meter(_ exchange: CompletedExchange) -> Outcome {
        var dimensions = dimensions(of: exchange.request, keyID: exchange.keyID, keyHint: exchange.keyHint, attribution: exchange.attribution)

        var flags: UsageEvent.Flags = []
        var problems = exchange.tap.problems.filter { $0 != TapProblem.noUsage.rawValue || exchange.status < 400 }
        var tokens = TokenUsage.zero

        if exchange.status >= 400 { flags.insert(.error) }
        if let usage = exchange.tap.usage {
            tokens = usage.tokens
            dimensions.servedModel = usage.model ?? ""
        } else if exchange.status < 400 {
            // Billed but never reported (client cancelled, stream cut, or a provider that
            // omits usage): estimate rather than record it as free, and say so.
            tokens = TokenUsage(input: estimatedTokens(characters: exchange.requestBodyBytes), output: exchange.tap.estimatedOutputTokens)
            flags.insert(.estimated)
            if !problems.contains("usage_missing") { problems.append("usage_missing") }
        }
        if exchange.request.model == nil, !dimensions.servedModel.isEmpty {
            // Nothing requested by name (rare): the response is all there is to go by.
            dimensions.model = prices.canonicalModel(dimensions.servedModel)
        }

        // Priced by the most specific name: the served snapshot may have its own price.
        let cost: Nanodollars
        switch prices.lookup(dimensions.servedModel.isEmpty ? exchange.request.model ?? "" : dimensions.servedModel) {
        case .priced(_, let price):
            cost = price.cost(of: tokens)
        case .unpriced(let fallback):
            cost = fallback.cost(of: tokens)
            if tokens != .zero { flags.insert(.unpriced) }
        }
        let event = UsageEvent(unixTime: Int64(exchange.completedAt.timeIntervalSince1970), dimensions: dimensions,
                               tokens: tokens, cost: cost, flags: flags)
        return Outcome(event: event, problems: problems)
    }
}
