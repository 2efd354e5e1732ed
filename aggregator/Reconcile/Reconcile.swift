import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare Tollgate's totals with the providers' own usage and cost reports.",
        discussion: """
        The aggregator pulls OpenAI's organization Usage and Costs APIs and Anthropic's Admin
        API usage and cost reports, with the admin keys only it holds (reconcile: in its
        config), and compares them per UTC day, provider, model and key with what Tollgate
        metered. Whole UTC days are compared; the providers' reports lag by minutes to hours,
        so today's rows may differ until they catch up: for alerts, compare finished days
        (--until 1d stops at the end of yesterday, UTC).

        Keys: providers report their own key ids. Rows are per key where
        reconcile.<provider>.keys maps a provider key id to Tollgate's key id (KEY MATCH
        mapped) or to a hint's last four characters that only one key has (hint); all other
        usage is compared per day and model (unmapped). Cost reports do not split by key, so
        when a day and model has several key rows their total row (KEY *) compares the cost.

        STATUS: match, differs (a token class or the cost beyond the tolerance),
        missing-in-tollgate (the provider billed what Tollgate never saw) or
        missing-at-provider. A value matches when it is within --tolerance-percent of the
        provider's (default: the aggregator's, 1 %) or, for costs, within its absolute slack
        (default $0.01).

        Exit status: 0 when every row matches, 1 when any differs, 2 when a provider's report
        could not be read or the aggregator refused.

        Examples:
          tollgate reconcile --since 30d
          tollgate reconcile --since 7d --until 1d --provider anthropic --format json
        """)

    @Option(help: "Start of the window: \(TimeArgument.help). Whole UTC days are compared.")
    var since: String = "30d"

    @Option(help: "End of the window: \(TimeArgument.help). Default: now.")
    var until: String = "now"

    @Option(help: "Only this provider: openai or anthropic. Default: every configured one.")
    var provider: String?

    @Option(help: "Allowed difference per token class and cost, in percent of the provider's number (two decimals at most).")
    var tolerancePercent: String?

    @Flag(help: "Print only rows that are not a match.")
    var differencesOnly = false

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func validate() throws {
        if let provider, ReconcileProvider(rawValue: provider) == nil {
            throw ValidationError("--provider '\(provider)': expected openai or anthropic")
        }
        if let tolerancePercent, ReconcileTolerance.basisPoints(percent: tolerancePercent) == nil {
            throw ValidationError("--tolerance-percent '\(tolerancePercent)': expected a percentage from 0 to 100 with at most two decimals, e.g. 1 or 0.5")
        }
    }

    func run() async throws {
        let now = Date()
        let start = try TimeArgument.parse(since, option: "--since", now: now)
        let end = try TimeArgument.parse(until, option: "--until", now: now)
        guard end > start else { throw ValidationError("--until (\(until)) must be after --since (\(since))") }
        var query = "since=\(start)&until=\(end)"
        if let provider { query += "&provider=\(provider)" }
        if let tolerancePercent { query += "&tolerance_percent=\(tolerancePercent)" }
        let report: ReconcileReport
        do {
            let data = try await api.send("GET", "/v1/reconcile?\(query)", token: try auth.token())
            report = try JSONDecoder().decode(ReconcileReport.self, from: data)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        var shown = report
        if differencesOnly { shown.rows.removeAll { $0.status == .match } }
        switch format {
        case .json: try printJSON(shown)
        case .table: print(ReconcileTable(report: shown).render())
        }
        for outcome in report.providers {
            if let error = outcome.error { FileHandle.standardError.write(Data("Error: \(error)\n".utf8)) }
        }
        if report.providers.contains(where: { $0.error != nil }) { throw ExitCode(2) }
        if !report.allMatch { throw ExitCode(1) }
    }
}
