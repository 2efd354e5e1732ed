import ArgumentParser
import Foundation
import TollgateAggregator

struct PolicyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Every policy, with what it did over the fleet.",
        discussion: """
        ROUTED and REFUSED are requests the policy sent to another model or refused, summed
        over every agent's latest report (agents count from their start; what earlier agent
        processes counted is carried). DRY RUN shows what a dry-run policy would have
        routed/refused. EXCEPTIONS counts the active ones. REJECTED is how many agents could
        not apply the policy and kept its previous version (`tollgate policy show` names them).
        How much routing saved, priced at the requested model: tollgate usage.
        JSON gives {policy, hits, rejected_by} per policy.
        """)

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let data = try await api.send("GET", "/v1/policies", token: try auth.token())
        let views = try JSONDecoder().decode([PolicyView].self, from: data)
        switch format {
        case .json: try printJSON(views)
        case .table:
            print(views.isEmpty ? "no policies; create one with `tollgate policy set`" : PolicyTable(views: views, now: Int64(Date().timeIntervalSince1970)).render())
        }
    }
}
