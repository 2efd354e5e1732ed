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
