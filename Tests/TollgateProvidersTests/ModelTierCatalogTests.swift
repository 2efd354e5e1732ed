import Foundation
import Testing
import TollgateCore
import TollgateProviders

/// Model tiers (issue #20): every built-in model has one and it follows the rule the
/// catalog's comment states; a deployment reassigns them with `pricing.tiers`, and other
/// price sources never drop them.
@Suite struct ModelTierCatalogTests {
    let catalog = DefaultPriceCatalog.load()

    /// The rule in `DefaultPriceCatalog.yaml`'s comment: bands of standard output USD per
    /// million tokens, Anthropic's its own.
    static func tierByRule(provider: String, outputPerMillion: Int64) -> ModelTier {
        let usd: Int64 = 1_000_000_000
        let (premium, standard) = provider == "anthropic" ? (25 * usd, 10 * usd) : (8 * usd, 4 * usd)
        return outputPerMillion >= premium ? .premium : outputPerMillion >= standard ? .standard : .economy
    }

    @Test func everyBuiltInModelHasTheTierItsPriceSays() {
        for (model, price) in catalog.prices {
            let tier = catalog.tier(of: model)
            #expect(tier == Self.tierByRule(provider: price.provider, outputPerMillion: price.output),
                    "\(model) (\(price.provider), output \(formatUSD(nanodollars: price.output))/M) is \(tier.map(\.rawValue) ?? "untiered")")
        }
    }

    @Test(arguments: [
        ("claude-opus-4-1", ModelTier.premium), ("claude-opus-4-5-20251101", .premium), ("claude-sonnet-4-5", .standard),
        ("claude-3-7-sonnet-latest", .standard), ("claude-haiku-4-5", .economy), ("gpt-5", .premium), ("gpt-4.1-2025-04-14", .premium),
        ("o3", .premium), ("o4-mini", .standard), ("gpt-4.1-mini", .economy), ("gpt-5-nano", .economy), ("models/gemini-2.5-pro", .premium),
        ("gemini-2.5-flash", .economy), ("gemini-flash-lite-latest", .economy),
    ])
    func aRequestedOrServedNameHasItsModelsTier(name: String, tier: ModelTier) {
        #expect(catalog.facts(of: name).tier == tier)
    }

    /// Every line-up has a premium and an economy rung, so "no premium in dev" and "economy
    /// only in CI" mean something for each provider.
    @Test func everyProviderHasPremiumAndEconomyModels() {
        for provider in ["openai", "anthropic", "gemini"] {
            let tiers = Set(catalog.canonicalModels.map { catalog.facts(of: $0) }.filter { $0.provider == provider }.compactMap(\.tier))
            #expect(tiers.isSuperset(of: [.premium, .economy]), "\(provider): \(tiers)")
        }
    }

    func load(_ yaml: String) throws -> PriceCatalog {
        try DefaultPriceCatalog.load(pricing: try ConfigNode(yaml: yaml, source: "test").section("pricing"))
    }

    @Test func pricingTiersReassignWithoutRestatingPrices() throws {
        let deployed = try load("""
            pricing:
              tiers:
                claude-sonnet-4-5: premium
                claude-sonnet-4-0: premium
                gpt-4.1: standard
            """)
        #expect(deployed.tier(of: "claude-sonnet-4-5") == .premium)
        // An alias names its model.
        #expect(deployed.tier(of: "claude-sonnet-4") == .premium)
        #expect(deployed.facts(of: "gpt-4.1-2025-04-14").tier == .standard)
        #expect(deployed.prices["claude-sonnet-4-5"] == catalog.prices["claude-sonnet-4-5"])
        #expect(deployed.tier(of: "claude-3-7-sonnet") == .standard, "only the models named change")
    }

    @Test func pricingTiersNamingAnUnknownModelOrTierIsAClearError() throws {
        let model = #expect(throws: ConfigError.self) { try load("pricing:\n  tiers:\n    claude-sonet-4-5: premium\n") }
        let modelText = model.map { "\($0)" } ?? ""
        #expect(modelText.contains("pricing.tiers.claude-sonet-4-5") && modelText.contains("is none") && modelText.contains("pricing.catalog"), "\(modelText)")
        let tier = #expect(throws: ConfigError.self) { try load("pricing:\n  tiers:\n    claude-sonnet-4-5: platinum\n") }
        let tierText = tier.map { "\($0)" } ?? ""
        #expect(tierText.contains("pricing.tiers.claude-sonnet-4-5") && tierText.contains("platinum") && tierText.contains("economy, standard, premium"),
                "\(tierText)")
        #expect(throws: ConfigError.self) { try load("pricing:\n  tiers:\n    gpt-4.1: [premium]\n") }
        #expect(throws: ConfigError.self) { try load("pricing:\n  tiers: premium\n") }
    }

    /// LiteLLM's file and a deployment catalog entry without `tier:` restate prices, not
    /// tiers: the built-in tier stays. A model only LiteLLM knows has no tier until
    /// `pricing.tiers` names it; a `tier:` in `pricing.catalog` sets one.
    @Test func otherPriceSourcesKeepTiersAndOnlyTiersSetThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-tiers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let litellm = directory.appendingPathComponent("litellm.json").path
        try Data("""
            {"claude-sonnet-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05},
             "claude-haiku-4-5-20251001": {"litellm_provider": "anthropic", "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06},
             "mistral/mistral-large-latest": {"litellm_provider": "mistral", "input_cost_per_token": 2e-06, "output_cost_per_token": 6e-06}}
            """.utf8).write(to: URL(fileURLWithPath: litellm))
        let own = directory.appendingPathComponent("prices.yaml").path
        try """
            models:
              claude-opus-4-1: {provider: anthropic, input: 14, output: 70}
              my-azure-gpt: {provider: openai, input: 2, output: 8, tier: standard}
            """.write(toFile: own, atomically: true, encoding: .utf8)

        let merged = try load("pricing:\n  litellm_file: \(litellm)\n  catalog: \(own)\n")
        #expect(merged.tier(of: "claude-sonnet-4-5") == .standard)
        #expect(merged.facts(of: "claude-haiku-4-5-20251001").tier == .economy)
        #expect(merged.tier(of: "claude-opus-4-1") == .premium && merged.prices["claude-opus-4-1"]?.output == 70_000_000_000)
        #expect(merged.tier(of: "my-azure-gpt") == .standard)
        #expect(merged.facts(of: "mistral-large-latest").tier == nil)

        let tiered = try load("pricing:\n  litellm_file: \(litellm)\n  tiers:\n    mistral-large-latest: standard\n")
        #expect(tiered.facts(of: "mistral/mistral-large-latest").tier == .standard)
    }
}
