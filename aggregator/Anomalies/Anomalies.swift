import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct Anomalies: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomalies",
        abstract: "Teams, keys, use cases and environments spending abnormally today.",
        discussion: """
        For every team, key, use case and env, today's spend so far (UTC day) is compared
        with its normal: the average of the 7 previous days' spend from midnight to the
        same time of day. At anomalies.ratio times the normal (3 by default) and at least
        anomalies.min_spend_usd ($5 by default) a scope value is an anomaly; a value that
        spent nothing in those 7 days shows as "new". TOP MODEL and TOP KEY say where
        today's spend went.

        The aggregator checks every anomalies.interval_ms (a minute) and alerts once per
        scope value and day: a log line, tollgate_anomaly_alerts_total{scope}, and the
        webhook (alerts.webhook_url) with kind "anomaly". This command evaluates now.

        What today's spend is against normal: `tollgate anomalies` lists what stands out;
        `tollgate usage --by team --since today` gives every team's spend so far.
        Needs the aggregator's API token (--token-file or TOLLGATE_TOKEN).
        """)

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let data = try await api.send("GET", "/v1/anomalies", token: try auth.token())
        let report = try JSONDecoder().decode(AnomalyReport.self, from: data)
        switch format {
        case .json: try printJSON(report)
        case .table: print(AnomalyTable(report: report).render())
        }
    }
}
