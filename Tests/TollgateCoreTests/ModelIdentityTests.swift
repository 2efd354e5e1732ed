import Foundation
import Testing
@testable import TollgateCore

/// `PriceCatalog.resolve`: every name a model goes by gives one canonical model.
@Suite struct ModelIdentityTests {
    let catalog = try! PriceCatalog(yaml: """
        models:
          gpt-4.1:
            provider: openai
            input: 2
            output: 8
          gpt-4.1-mini:
            provider: openai
            input: 0.40
            output: 1.60
          claude-sonnet-4:
            provider: anthropic
            input: 3
            output: 15
            aliases: [claude-sonnet-4-0]
          gemini-2.5-pro:
            provider: gemini
            input: 1.25
            output: 10
          gemini-3-pro-preview:
            provider: gemini
            input: 2
            output: 12
            aliases: [gemini-3-pro]
        """, source: "test")

    @Test(arguments: [
        ("gpt-4.1", "gpt-4.1"), ("gpt-4.1-2025-04-14", "gpt-4.1"), ("openai/gpt-4.1", "gpt-4.1"),
        ("openai/gpt-4.1-2025-04-14", "gpt-4.1"), ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("claude-sonnet-4-0", "claude-sonnet-4"), ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("anthropic/claude-sonnet-4-0", "claude-sonnet-4"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro"), ("gemini-2.5-pro-001", "gemini-2.5-pro"),
        ("gemini/gemini-2.5-pro", "gemini-2.5-pro"), ("gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"),
        ("gemini-2.5-pro-exp-03-25", "gemini-2.5-pro"), ("gpt-4.1-0613", "gpt-4.1"),
        ("models/gemini-3-pro", "gemini-3-pro-preview"), ("gemini-3-pro-preview", "gemini-3-pro-preview"),
    ])
    func everyNameOfAModelResolvesToItsCatalogID(name: String, canonical: String) {
        let resolution = catalog.resolve(name)
        #expect(resolution.canonical == canonical)
        #expect(resolution.isKnown)
    }

    @Test func unknownModelsKeepTheirNameWithoutGeminisPathPrefix() {
        #expect(catalog.resolve("gpt-99-turbo") == ModelResolution(canonical: "gpt-99-turbo", priceKey: nil))
        #expect(catalog.resolve("models/gemini-9-ultra").canonical == "gemini-9-ultra")
        #expect(catalog.resolve("my-azure-deployment").canonical == "my-azure-deployment")
        // A suffix is stripped only to find a known model, never to invent one.
        #expect(catalog.resolve("gpt-5-2025-08-07").canonical == "gpt-5-2025-08-07")
        #expect(catalog.resolve("").canonical == "")
    }

    @Test func aDeploymentCatalogDeclaresModelsAliasesAndSnapshots() throws {
        var deployment = catalog
        try deployment.merge(yaml: """
            models:
              gpt-4.1:
                provider: openai
                input: 2
                output: 8
                aliases: [eu-gpt41]
                snapshots: [gpt-4.1-eu-build-7]
              in-house-llm:
                provider: self
                input: 0.10
                output: 0.10
                aliases: [llm-prod]
            """, source: "deployment")
        #expect(deployment.canonicalModel("eu-gpt41") == "gpt-4.1")
        #expect(deployment.canonicalModel("gpt-4.1-eu-build-7") == "gpt-4.1")
        #expect(deployment.canonicalModel("llm-prod") == "in-house-llm")
        #expect(deployment.canonicalModels.contains("in-house-llm"))
        #expect(!deployment.canonicalModels.contains("eu-gpt41"), "aliases are not models of their own")
    }

    /// LiteLLM lists snapshots and provider copies as entries of their own, some priced
    /// apart: they keep their price but not an identity of their own.
    @Test func liteLLMEntriesForSnapshotsAndProvidersBelongToTheirModel() throws {
        var merged = catalog
        try merged.merge(liteLLMJSON: Data("""
            {
              "gpt-4.1-2025-04-14": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "litellm_provider": "openai"},
              "azure/gpt-4.1": {"input_cost_per_token": 2.2e-06, "output_cost_per_token": 8.8e-06, "litellm_provider": "azure"},
              "vertex_ai/gemini-4-flash": {"input_cost_per_token": 1e-07, "output_cost_per_token": 4e-07, "litellm_provider": "vertex_ai"}
            }
            """.utf8), source: "litellm")
        let snapshot = merged.resolve("gpt-4.1-2025-04-14")
        #expect(snapshot == ModelResolution(canonical: "gpt-4.1", priceKey: "gpt-4.1-2025-04-14"))
        #expect(merged.resolve("azure/gpt-4.1") == ModelResolution(canonical: "gpt-4.1", priceKey: "azure/gpt-4.1"))
        #expect(merged.resolve("gemini-4-flash") == ModelResolution(canonical: "gemini-4-flash", priceKey: "vertex_ai/gemini-4-flash"))
        #expect(merged.resolve("vertex_ai/gemini-4-flash").canonical == "gemini-4-flash")
        #expect(merged.canonicalModels == ["claude-sonnet-4", "gemini-2.5-pro", "gemini-3-pro-preview", "gemini-4-flash", "gpt-4.1", "gpt-4.1-mini"])
        let names = merged.modelNames.first { $0.model == "gpt-4.1" }
        #expect(names?.names == ["azure/gpt-4.1", "gpt-4.1-2025-04-14"] && names?.provider == "openai")
        #expect(merged.modelNames.first { $0.model == "gemini-4-flash" }?.names == ["vertex_ai/gemini-4-flash"])
        #expect(merged.modelNames.first { $0.model == "claude-sonnet-4" }?.names == ["claude-sonnet-4-0"])
    }

    @Test func aSelectorsModelIsStoredCanonical() throws {
        let selector = try BudgetSelector(parsing: "team=ml,model=gpt-4.1-2025-04-14").resolvingModels(with: catalog)
        #expect(selector.description == "model=gpt-4.1,team=ml")
        #expect(try BudgetSelector(parsing: "model=models/gemini-3-pro").resolvingModels(with: catalog).description == "model=gemini-3-pro-preview")
        // Served and requested names are compared as written.
        #expect(try BudgetSelector(parsing: "served_model=gpt-4.1-2025-04-14").resolvingModels(with: catalog).description
            == "served_model=gpt-4.1-2025-04-14")
        #expect(try BudgetSelector(parsing: "*").resolvingModels(with: catalog) == .all)
    }

    @Test func aSelectorNamingAnUnknownModelIsRefusedWithTheKnownOnes() throws {
        let selector = try BudgetSelector(parsing: "model=gpt-4.2")
        #expect(throws: UnknownModelError(selector: "model=gpt-4.2", model: "gpt-4.2",
                                          known: "known models: claude-sonnet-4, gemini-2.5-pro, gemini-3-pro-preview, gpt-4.1, gpt-4.1-mini (`tollgate models` lists their other names)")) {
            try selector.resolvingModels(with: catalog)
        }
    }

    @Test func withManyModelsTheRefusalListsThoseLikeIt() throws {
        var large = catalog
        for index in 0..<100 { large.set("vendor-model-\(index)", ModelPrice(provider: "x", input: 1, output: 1)) }
        let message = BudgetSelector.knownModels(large, near: "gpt-4.2")
        #expect(message.hasPrefix("known models like it: gpt-4.1, gpt-4.1-mini; 105 models are known"), "\(message)")
    }

    @Test func dimensionListsNameTheNewDimensions() throws {
        #expect(try UsageDimension.parseList("model,served_model,requested_model") == [.model, .servedModel, .requestedModel])
        #expect(throws: UsageDimensionError.unknown("modle")) { try UsageDimension.parseList("modle") }
        #expect(UsageDimensionError.unknown("modle").description.contains("served_model, requested_model"))
    }
}
