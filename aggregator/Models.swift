import ArgumentParser
import Foundation
import TollgateAggregator

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models budgets and reports know, with the other names of each.",
        discussion: """
        Every usage record carries the canonical model: the price catalog's id (gpt-4.1),
        whichever alias, dated snapshot (gpt-4.1-2025-04-14, found from its undated name),
        Gemini models/ path or provider prefix (openai/gpt-4.1) the request used. A budget's
        model= may use any of these names and is stored under the id. The catalog is the
        aggregator's pricing: section (built-in, pricing.litellm_file, pricing.catalog);
        declare a deployment's own models and aliases (an Azure deployment's name) there and
        in the agents' config alike.

        Examples:
          tollgate models
          tollgate models --format json
        """)

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions

    func run() async throws {
        let models = try JSONDecoder().decode([ModelView].self, from: try await api.get("/v1/models", query: []))
        switch format {
        case .json:
            try printJSON(models)
        case .table:
            let rows = [["MODEL", "PROVIDER", "OTHER NAMES"]] + models.map { [$0.model, $0.provider, $0.names.joined(separator: ", ")] }
            let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print((0..<2).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[2])
            }
        }
    }
}
