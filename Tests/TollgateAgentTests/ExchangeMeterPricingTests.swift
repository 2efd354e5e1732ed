import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateProviders

/// The meter prices what the response says beyond tokens: the tier that served it (the
/// request's choice when the response is silent), 1-hour cache writes and web searches.
@Suite struct ExchangeMeterPricingTests {
    let meter = ExchangeMeter(prices: DefaultPriceCatalog.load())

    // gpt-5 in the built-in catalog: $1.25 / $0.125 / $10, flex half, priority double.
    func gpt5(requested: ServiceTier?, reported: ServiceTier?) -> Nanodollars {
        var request = ProviderRequest(provider: .openai, endpoint: .chatCompletions, model: "gpt-5")
        request.serviceTier = requested
        let usage = ExtractedUsage(model: "gpt-5-2025-08-07", tokens: TokenUsage(input: 2_000, cachedInput: 1_000, output: 100),
                                   serviceTier: reported)
        let exchange = CompletedExchange(request: request, keyID: "kid", keyHint: "sk-…abcd", status: 200,
                                         tap: TapResult(usage: usage), requestBodyBytes: 400, completedAt: Date(timeIntervalSince1970: 120))
        return meter.meter(exchange).event.cost
    }

    @Test func theResponsesServiceTierIsAuthoritative() {
        // Asked for flex, served at the default tier: billed at standard rates.
        #expect(gpt5(requested: .flex, reported: .standard) == Nanodollars(1_000 * 1_250 + 1_000 * 125 + 100 * 10_000))
        #expect(gpt5(requested: nil, reported: .flex) == Nanodollars(1_000 * 625 + 1_000 * 125 / 2 + 100 * 5_000))
        #expect(gpt5(requested: .standard, reported: .priority) == Nanodollars(1_000 * 2_500 + 1_000 * 250 + 100 * 20_000))
    }

    @Test func theRequestsTierPricesAResponseThatDoesNotSay() {
        #expect(gpt5(requested: .priority, reported: nil) == Nanodollars(1_000 * 2_500 + 1_000 * 250 + 100 * 20_000))
        #expect(gpt5(requested: nil, reported: nil) == Nanodollars(1_000 * 1_250 + 1_000 * 125 + 100 * 10_000))
    }

    @Test func anthropicOneHourWritesAndWebSearchesReachTheCost() {
        let request = ProviderRequest(provider: .anthropic, endpoint: .messages, model: "claude-sonnet-4-5")
        let usage = ExtractedUsage(model: "claude-sonnet-4-5-20250929",
                                   tokens: TokenUsage(input: 3_620, cachedInput: 500, cacheWrite: 3_000, cacheWrite1h: 2_000, output: 800),
                                   serviceTier: .standard, webSearchRequests: 2)
        let exchange = CompletedExchange(request: request, keyID: "kid", keyHint: "sk-…abcd", status: 200,
                                         tap: TapResult(usage: usage), requestBodyBytes: 400, completedAt: Date(timeIntervalSince1970: 120))
        let event = meter.meter(exchange).event
        // 120 × $3 + 500 × $0.30 + 1,000 × $3.75 + 2,000 × $6 + 800 × $15 per M, + 2 searches at 1¢.
        #expect(event.cost == Nanodollars(120 * 3_000 + 500 * 300 + 1_000 * 3_750 + 2_000 * 6_000 + 800 * 15_000 + 20_000_000))
        #expect(event.tokens.cacheWrite1h == 2_000)
    }
}
