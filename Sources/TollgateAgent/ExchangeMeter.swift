import Foundation
import TollgateCore
import TollgateProviders

/// Everything known about one proxied call once its response has ended.
struct CompletedExchange {
    var provider: Provider
    var endpoint: String
    var keyID: String
    var keyHint: String
    var request: RequestSummary
    var status: Int
    /// The response body, or nil when it was too large to keep for metering.
    var responseBody: Data?
    var isEventStream: Bool
    var completedAt: Date
}

/// Turns a completed exchange into a priced usage event. Pure, so every rule about what
/// counts (errors, unknown models, unreadable bodies) is unit-tested without sockets.
struct ExchangeMeter {
    var prices: PriceCatalog

    struct Outcome {
        var event: UsageEvent
        /// Why usage could not be read, for the metric; nil when it was read cleanly.
        var problem: String?
    }

    func meter(_ exchange: CompletedExchange) -> Outcome {
        var dimensions = Dimensions()
        dimensions.keyID = exchange.keyID
        dimensions.keyHint = exchange.keyHint
        dimensions.provider = exchange.provider.rawValue
        dimensions.endpoint = exchange.endpoint
        dimensions.user = exchange.request.user ?? ""

        var flags: UsageEvent.Flags = []
        var tokens = TokenUsage.zero
        var model = exchange.request.model
        var problem: String?

        if exchange.status >= 400 { flags.insert(.error) }
        if exchange.isEventStream {
            // Stream metering arrives with the SSE tap (issue #3); until then the call is
            // counted, flagged estimated, and visible in a metric rather than silently free.
            flags.insert(.estimated)
            problem = "stream_not_metered"
        } else if let body = exchange.responseBody {
            do {
                let usage = try OpenAIChatUsage.extract(from: body)
                tokens = usage.tokens
                model = usage.model ?? model
            } catch let error as UsageExtractionError {
                // An error response without usage is normal; anything else is worth counting.
                if exchange.status < 400 || error != .noUsage {
                    problem = error.reason
                    flags.insert(.estimated)
                }
            } catch {
                problem = "unknown"
            }
        } else {
            problem = "response_too_large"
            flags.insert(.estimated)
        }

        dimensions.model = model ?? "unknown"
        let cost: Nanodollars
        switch prices.lookup(dimensions.model) {
        case .priced(_, let price):
            cost = price.cost(of: tokens)
        case .unpriced(let fallback):
            cost = fallback.cost(of: tokens)
            if tokens != .zero { flags.insert(.unpriced) }
        }
        let event = UsageEvent(unixTime: Int64(exchange.completedAt.timeIntervalSince1970), dimensions: dimensions,
                               tokens: tokens, cost: cost, flags: flags)
        return Outcome(event: event, problem: problem)
    }
}
