import Foundation
import Testing
@testable import TollgateCore

@Suite struct LiteLLMPricesTests {
    /// Entries in the shape of LiteLLM's model_prices_and_context_window.json.
    let file = """
        {
          "sample_spec": {"input_cost_per_token": "set to 0", "litellm_provider": "one of"},
          "gpt-4o": {"max_tokens": 16384, "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
                     "cache_read_input_token_cost": 1.25e-06, "litellm_provider": "openai", "mode": "chat"},
          "claude-sonnet-4-5-20250929": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                     "cache_creation_input_token_cost": 3.75e-06, "cache_read_input_token_cost": 3e-07,
                     "litellm_provider": "anthropic", "mode": "chat"},
          "gemini/gemini-2.5-flash": {"input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06,
                     "litellm_provider": "gemini", "mode": "chat"},
          "azure/gpt-4o": {"input_cost_per_token": 2.75e-06, "output_cost_per_token": 1.1e-05, "litellm_provider": "azure"},
          "dall-e-3": {"output_cost_per_pixel": 0.0, "litellm_provider": "openai", "mode": "image_generation"}
        }
        """

    @Test func importsChatPricesExactly() throws {
        var catalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        #expect(try catalog.merge(liteLLMJSON: Data(file.utf8), source: "test") == 4)
        #expect(catalog.prices["gpt-4o"] == ModelPrice(provider: "openai", input: 2_500_000_000, cachedInput: 1_250_000_000, output: 10_000_000_000))
        #expect(catalog.prices["claude-sonnet-4-5-20250929"]?.cacheWrite == 3_750_000_000)
        #expect(catalog.prices["claude-sonnet-4-5-20250929"]?.cachedInput == 300_000_000)
    }

    @Test func bareNamesFindProviderPrefixedEntriesWithoutStealingOthers() throws {
        var catalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        try catalog.merge(liteLLMJSON: Data(file.utf8), source: "test")
        guard case .priced(let model, let price) = catalog.lookup("gemini-2.5-flash") else {
            Issue.record("gemini-2.5-flash should be found through gemini/gemini-2.5-flash")
            return
        }
        #expect(model == "gemini/gemini-2.5-flash" && price.output == 2_500_000_000)
        // "gpt-4o" is OpenAI's own entry, not Azure's.
        guard case .priced(_, let openai) = catalog.lookup("gpt-4o-2024-08-06") else {
            Issue.record("gpt-4o should be priced")
            return
        }
        #expect(openai.input == 2_500_000_000)
    }

    @Test func rejectsWhatIsNotThePriceFile() {
        var catalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        #expect(throws: PriceCatalog.LiteLLMError.self) { try catalog.merge(liteLLMJSON: Data("[1,2]".utf8), source: "x") }
    }
}

/// The price dimensions beyond the five classes, in LiteLLM's own key names.
@Suite struct LiteLLMPriceDimensionTests {
    static let file = """
        {
          "claude-sonnet-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
            "cache_creation_input_token_cost_above_1hr": 6e-06,
            "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
            "cache_read_input_token_cost_above_200k_tokens": 6e-07, "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
            "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05,
            "input_cost_per_token_batches": 1.5e-06, "output_cost_per_token_batches": 7.5e-06,
            "search_context_cost_per_query": {"search_context_size_low": 0.01, "search_context_size_medium": 0.01, "search_context_size_high": 0.01}},
          "gpt-5": {"litellm_provider": "openai", "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 1.25e-07,
            "input_cost_per_token_flex": 6.25e-07, "output_cost_per_token_flex": 5e-06, "cache_read_input_token_cost_flex": 6.25e-08,
            "input_cost_per_token_priority": 2.5e-06, "output_cost_per_token_priority": 2e-05, "cache_read_input_token_cost_priority": 2.5e-07},
          "gpt-5.5": {"litellm_provider": "openai", "input_cost_per_token": 5e-06, "output_cost_per_token": 3e-05,
            "input_cost_per_token_above_272k_tokens": 1e-05, "input_cost_per_token_above_272k_tokens_priority": 2e-05,
            "input_cost_per_token_priority": 1e-05}
        }
        """

    @Test func importsOneHourWritesLongContextAndTiers() throws {
        var catalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        #expect(try catalog.merge(liteLLMJSON: Data(Self.file.utf8), source: "litellm.json", asOf: "2026-12-01") == 3)
        let sonnet = try #require(catalog.prices["claude-sonnet-4-5"])
        #expect(sonnet.cacheWrite1h == 6_000_000_000)
        #expect(sonnet.longContextThreshold == 200_000)
        #expect(sonnet.rates[.standard, longContext: true] == TokenRates(
            input: 6_000_000_000, cachedInput: 600_000_000, cacheWrite: 7_500_000_000, cacheWrite1h: 12_000_000_000, output: 22_500_000_000))
        #expect(sonnet.rates[.batch, longContext: false].output == 7_500_000_000)
        #expect(sonnet.webSearchPer1k == 10_000_000_000)
        #expect(catalog.origins["claude-sonnet-4-5"] == PriceOrigin(source: "litellm.json", asOf: "2026-12-01"))

        let gpt5 = try #require(catalog.prices["gpt-5"])
        #expect(gpt5.rates[.flex, longContext: false] == TokenRates(input: 625_000_000, cachedInput: 62_500_000, output: 5_000_000_000))
        #expect(gpt5.rates[.priority, longContext: false].cachedInput == 250_000_000)
        #expect(!gpt5.hasLongContext)

        let gpt55 = try #require(catalog.prices["gpt-5.5"])
        #expect(gpt55.longContextThreshold == 272_000)
        #expect(gpt55.rates[.priority, longContext: true].input == 20_000_000_000)
    }

    @Test func checkListsEachDifferingFieldAndNothingElse() throws {
        let file = try LiteLLMPriceFile(json: Data(Self.file.utf8), source: "litellm.json")
        var catalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        catalog.merge(file, source: "litellm.json")
        #expect(PriceCheck(catalog: catalog, file: file).differences.isEmpty)

        // Ours: 1-hour writes at the 5-minute rate, no long-context band, no flex price.
        catalog.set("claude-sonnet-4-5", ModelPrice(provider: "anthropic", input: 3_000_000_000, cachedInput: 300_000_000,
                                                    cacheWrite: 3_750_000_000, output: 15_000_000_000))
        catalog.set("my-model", ModelPrice(provider: "x", input: 1, output: 1))
        let check = PriceCheck(catalog: catalog, file: file)
        let fields = Dictionary(uniqueKeysWithValues: check.differences.filter { $0.model == "claude-sonnet-4-5" }.map { ($0.field, ($0.ours, $0.theirs)) })
        #expect(fields["cache_creation_input_token_cost_above_1hr"]! == ("3.75", "6"))
        #expect(fields["long-context threshold (tokens)"]! == ("-", "200000"))
        #expect(fields["input_cost_per_token_above_200k_tokens"]! == ("3", "6"))
        #expect(fields["search_context_cost_per_query.search_context_size_medium"]! == ("0", "10"))
        // The batch rates LiteLLM states are what Tollgate derives (half): no difference.
        #expect(fields["input_cost_per_token_batches"] == nil)
        #expect(fields["input_cost_per_token"] == nil)
        #expect(check.notInFile == ["my-model"])
    }
}
