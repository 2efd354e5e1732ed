import Foundation
import TollgateCore
import TollgateProviders

/// Everything known about one proxied call once its response has ended (or was cut off).
struct CompletedExchange {
    var request: ProviderRequest
    var attribution = Attribution()
    var keyID: String
    var keyHint: String
    /// The provider's status; nil when the exchange ended before the response head (the
    /// client left or the provider went silent after the request was sent).
    var status: Int?
    /// False when the response did not end as its framing says it would (client gone,
    /// connection cut, timeout): whatever usage it reported is then only usage so far.
    var endedCleanly = true
    var tap: TapResult
    /// Size of the request body, for estimating input when a stream never reports usage.
    var requestBodyBytes: Int
    var completedAt: Date
    /// The model the client asked for when a policy routed the request (`request.model` is
    /// then the target); nil when it went where it asked.
    var routedFrom: String?
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
    /// A routed request is the target model's (what it is priced and budgeted at), and its
    /// requested model is the client's (`routedFrom`).
    func dimensions(of request: ProviderRequest, keyID: String, keyHint: String, attribution: Attribution, routedFrom: String? = nil) -> Dimensions {
        var dimensions = Dimensions()
        dimensions.keyID = keyID
        dimensions.keyHint = keyHint
        dimensions.provider = request.provider.rawValue
        dimensions.endpoint = request.endpoint.rawValue
        dimensions.requestedModel = routedFrom ?? request.model ?? ""
        dimensions.model = request.model.map { prices.canonicalModel($0) } ?? "unknown"
        attribution.apply(to: &dimensions)
        return dimensions
    }

    func meter(_ exchange: CompletedExchange) -> Outcome {
        var dimensions = dimensions(of: exchange.request, keyID: exchange.keyID, keyHint: exchange.keyHint, attribution: exchange.attribution,
                                    routedFrom: exchange.routedFrom)

        var flags: UsageEvent.Flags = []
        let failed = (exchange.status ?? 0) >= 400
        var problems = exchange.tap.problems.filter { $0 != TapProblem.noUsage.rawValue || !failed }
        var tokens = TokenUsage.zero
        let cutShort = !exchange.endedCleanly || problems.contains(TapProblem.truncatedStream.rawValue)
        var serviceTier = exchange.request.serviceTier ?? .standard
        var webSearchRequests: Int64 = 0

        // A provider error status is not billed (OpenAI, Anthropic and Gemini all say so)
        // unless the body reports usage; an error event inside a stream that began with 200
        // is an error too, but what was generated before it was billed.
        if failed || problems.contains(TapProblem.providerError.rawValue) { flags.insert(.error) }
        if let usage = exchange.tap.usage {
            tokens = usage.tokens
            dimensions.servedModel = usage.model ?? ""
            serviceTier = usage.serviceTier ?? serviceTier
            webSearchRequests = usage.webSearchRequests
        }
        if !failed && (exchange.tap.usage == nil || cutShort) {
            // Billed but the final usage never came (client cancelled, stream cut, a provider
            // that omits usage): estimate rather than record it as free, never below what
            // the provider reported so far, and say so.
            tokens = Self.conservativeEstimate(reported: exchange.tap.usage?.tokens,
                                               inputTokens: estimatedTokens(characters: exchange.requestBodyBytes),
                                               outputTokens: exchange.tap.estimatedOutputTokens)
            flags.insert(.estimated)
            if exchange.tap.usage == nil, !problems.contains("usage_missing") { problems.append("usage_missing") }
            if !exchange.endedCleanly, !problems.contains(TapProblem.truncatedStream.rawValue) {
                problems.append(TapProblem.truncatedStream.rawValue)
            }
        }
        if exchange.request.model == nil, !dimensions.servedModel.isEmpty {
            // Nothing requested by name (rare): the response is all there is to go by.
            dimensions.model = prices.canonicalModel(dimensions.servedModel)
        }

        // Priced by the most specific name: the served snapshot may have its own price.
        let cost: Nanodollars
        let billable = BillableUsage(tokens: tokens, serviceTier: serviceTier, webSearchRequests: webSearchRequests)
        switch prices.lookup(dimensions.servedModel.isEmpty ? exchange.request.model ?? "" : dimensions.servedModel) {
        case .priced(_, let price):
            cost = price.cost(of: billable)
        case .unpriced(let fallback):
            cost = fallback.cost(of: billable)
            if tokens != .zero { flags.insert(.unpriced) }
        }
        var routingSavings = Nanodollars.zero
        if let requested = exchange.routedFrom {
            // What the same tokens would have cost at the model asked for: the cost routing
            // avoided (negative for a route to a dearer model). Unpriced: nothing to compare.
            flags.insert(.routed)
            if case .priced(_, let price) = prices.lookup(requested) { routingSavings = Nanodollars(price.cost(of: billable).value &- cost.value) }
        }
        let event = UsageEvent(unixTime: Int64(exchange.completedAt.timeIntervalSince1970), dimensions: dimensions,
                               tokens: tokens, cost: cost, flags: flags, routingSavings: routingSavings)
        return Outcome(event: event, problems: problems)
    }

    /// Usage for an exchange whose final report never came. Input is the provider's own count
    /// when it gave one before the end (Anthropic's `message_start`, Gemini's chunks: the
    /// prompt is read whole before the first token), else about four bytes of request body a
    /// token, which over-counts the JSON around the prompt. Output is the larger of the
    /// provider's count so far (Anthropic's placeholder or a `message_delta`, Gemini's running
    /// count) and the text seen at about four characters a token, plus any hidden reasoning
    /// already reported (Gemini's thoughts): the provider went on generating after its last
    /// report, and at least the text seen reached the agent.
    static func conservativeEstimate(reported: TokenUsage?, inputTokens: Int64, outputTokens: Int64) -> TokenUsage {
        var tokens = reported ?? .zero
        if tokens.input == 0 { tokens.input = inputTokens }
        tokens.output = tokens.reasoning + max(tokens.output - tokens.reasoning, outputTokens)
        return tokens
    }
}
