import Testing
import TollgateCore
import TollgateProviders

/// The built-in catalog gives the names real traffic uses (requested aliases and the
/// snapshots providers answer with, as the mock reproduces them) one canonical model each.
@Suite struct DefaultCatalogIdentityTests {
    let catalog = DefaultPriceCatalog.load()

    @Test(arguments: [
        ("gpt-4.1", "gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("o4-mini", "o4-mini-2025-04-16", "o4-mini"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-0", "claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-opus-4-0", "claude-opus-4-20250514", "claude-opus-4"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219", "claude-3-7-sonnet"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("gemini-flash-latest", "gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("gemini-flash-lite-latest", "gemini-2.5-flash-lite-preview-09-2025", "gemini-2.5-flash-lite"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro", "gemini-2.5-pro"),
    ])
    func requestedAndServedNamesAreOneModel(requested: String, served: String, canonical: String) {
        #expect(catalog.canonicalModel(requested) == canonical)
        #expect(catalog.canonicalModel(served) == canonical)
    }

    /// Models that merely cost the same are not one model: a budget on Sonnet 4.5 must not
    /// count Claude 3.7 Sonnet.
    @Test func distinctModelsAtTheSamePriceStayDistinct() {
        #expect(catalog.canonicalModel("claude-3-7-sonnet") != catalog.canonicalModel("claude-sonnet-4-5"))
        #expect(catalog.canonicalModel("claude-opus-4") != catalog.canonicalModel("claude-opus-4-1"))
        #expect(catalog.canonicalModel("gemini-2.0-flash") != catalog.canonicalModel("gemini-2.5-flash-lite"))
        #expect(catalog.canonicalModel("chatgpt-4o-latest") != catalog.canonicalModel("gpt-4o"))
        // Every entry is its own canonical model.
        #expect(catalog.canonicalModels == catalog.prices.keys.sorted())
    }
}
