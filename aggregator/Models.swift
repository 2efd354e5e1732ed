import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models budgets, policies and reports know, with their tiers and other names.",
        discussion: """
        Every usage record carries the canonical model: the price catalog's id (gpt-4.1),
        whichever alias, dated snapshot (gpt-4.1-2025-04-14, found from its undated name),
        Gemini models/ path or provider prefix (openai/gpt-4.1) the request used. A budget's
        model= may use any of these names and is stored under the id. The catalog is the
        aggregator's pricing: section (built-in, pricing.litellm_file, pricing.catalog);
        declare a deployment's own models and aliases (an Azure deployment's name) there and
        in the agents' config alike.

        TIER is the model's place in its provider's line-up (economy, standard, premium):
        what a policy's tier:premium matches. The built-in catalog states the rule; a
        deployment reassigns tiers with pricing.tiers ({claude-sonnet-4-5: premium}) in the
        aggregator's and the agents' config alike. A model only LiteLLM's file knows has no
        tier ("-") until pricing.tiers names it: it matches no tier: pattern.

        Examples:
          tollgate models
          tollgate models --tier premium
          tollgate models --format json
        """)

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @Option(help: "Only models of this tier: economy, standard or premium.")
    var tier: String?

    @OptionGroup var api: APIOptions

    func validate() throws {
        if let tier, ModelTier(rawValue: tier) == nil {
            throw ValidationError("--tier '\(tier)' is not a tier; expected one of \(ModelTier.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var models = try JSONDecoder().decode([ModelView].self, from: try await api.get("/v1/models", query: []))
        if let tier { models.removeAll { $0.tier != tier } }
        switch format {
        case .json:
            try printJSON(models)
        case .table:
            let rows = [["MODEL", "PROVIDER", "TIER", "OTHER NAMES"]] + models.map { [$0.model, $0.provider, $0.tier ?? "-", $0.names.joined(separator: ", ")] }
            let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print((0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[3])
            }
        }
    }
}
