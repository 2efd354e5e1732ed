import Foundation
import Testing
import TollgateCore
@testable import TollgateProviders

func fixture(_ name: String) throws -> Data {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    return try Data(contentsOf: url)
}

struct FixtureMissing: Error { var name: String }

@Suite struct OpenAIChatUsageTests {
    @Test func readsABasicCompletion() throws {
        let usage = try OpenAIChatUsage.extract(from: fixture("openai-chat-basic.json"))
        #expect(usage.model == "gpt-4o-mini-2024-07-18")
        #expect(usage.tokens == TokenUsage(input: 19, output: 10))
    }

    @Test func keepsCachedAndReasoningAsTheirOwnClasses() throws {
        let usage = try OpenAIChatUsage.extract(from: fixture("openai-chat-cached-reasoning.json"))
        #expect(usage.tokens == TokenUsage(input: 2006, cachedInput: 1920, output: 300, reasoning: 256))
        #expect(usage.tokens.uncachedInput == 86)
    }

    @Test func anErrorBodyHasNoUsage() throws {
        #expect(throws: UsageExtractionError.noUsage) { try OpenAIChatUsage.extract(from: fixture("openai-error-401.json")) }
    }

    @Test func negativeCountsAreRejectedNotCounted() throws {
        #expect(throws: UsageExtractionError.implausible(field: "prompt_tokens", value: -5)) {
            try OpenAIChatUsage.extract(from: fixture("openai-chat-negative-usage.json"))
        }
    }

    @Test(arguments: ["", "{", "[1,2]", "null", "{\"usage\": \"lots\"}", "\u{FFFD}garbage"])
    func malformedBodiesFailCleanly(body: String) {
        #expect(throws: UsageExtractionError.self) { try OpenAIChatUsage.extract(from: Data(body.utf8)) }
    }

    @Test func everyTruncationOfAFixtureFailsCleanlyOrParses() throws {
        let body = try fixture("openai-chat-cached-reasoning.json")
        for length in 0..<body.count {
            _ = try? OpenAIChatUsage.extract(from: body.prefix(length))
        }
    }

    @Test func readsTheRequestSummary() throws {
        let request = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil,
                                               body: try fixture("openai-chat-request.json"))
        #expect(request?.model == "gpt-4o-mini" && request?.isStream == false && request?.user == "alice@example.com")
        // An unreadable body is still forwarded and metered, just without a model.
        let unreadable = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil,
                                                  body: Data("not json".utf8))
        #expect(unreadable?.model == nil && unreadable?.isStream == false && unreadable?.user == nil)
    }
}

@Suite struct DefaultPriceCatalogTests {
    @Test func loadsAndPricesTheModelsTheMockServes() {
        let catalog = DefaultPriceCatalog.load()
        let served = ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "o4-mini-2025-04-16",
                      "gpt-3.5-turbo-instruct", "text-embedding-3-small", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001",
                      "claude-opus-4-1-20250805", "gemini-2.5-pro", "models/gemini-2.5-flash", "gemini-2.5-flash-lite-preview-09-2025"]
        for model in served {
            guard case .priced = catalog.lookup(model) else {
                Issue.record("\(model) is not priced by the built-in catalog")
                continue
            }
        }
    }

    /// Every built-in rate is a whole number of nanodollars per token, so a
    /// request's cost never rounds and the cost of summed tokens equals the summed costs.
    @Test func builtInPricesNeverRound() {
        for (model, price) in DefaultPriceCatalog.load().prices {
            for rate in [price.input, price.cachedInput, price.cacheWrite, price.output] {
                #expect(rate % 1_000_000 == 0, "\(model) has a rate that makes per-request costs round")
            }
        }
    }
}
