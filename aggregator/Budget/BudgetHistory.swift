import ArgumentParser
import Foundation

struct BudgetHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show every change to one budget: who, when, before and after (from the audit log).",
        discussion: """
        Creations, limit and selector changes, removals and exemptions of the budget, oldest
        first. The same entries as `tollgate audit --target budget:<id>`.
        """)

    @Argument(help: "Budget id.")
    var id: String

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let entries = try await Audit.fetch(api: api, token: try auth.token(), target: "budget:\(id)", since: nil, until: nil, limit: 100_000)
        switch format {
        case .json: try printJSON(entries)
        case .table: print(entries.isEmpty ? "no recorded changes to budget '\(id)' (changes are recorded since this aggregator version)" : AuditTable(entries: entries).render())
        }
    }
}
