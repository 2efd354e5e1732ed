import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct BudgetSuggest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Propose budgets from observed spend, and optionally create them in observe mode.",
        discussion: """
        For each value of --by (each team, say) the aggregator takes its spend per
        --window over the --baseline (complete UTC windows before the current one, from
        the value's first spend on, quiet windows counted as zero) and proposes
        --headroom percent of the 95th percentile: 130 % of the p95 daily spend over 60
        days by default (130–150 % of a 60-day baseline is the common practice). The p95
        rather than the mean, because a daily cap at 130 % of the mean would block every
        busy weekday; rather than the maximum, because one incident should not set
        everyone's cap. With few windows (weeks or months) the p95 is the largest.

        --apply creates each proposal as a budget in observe mode (id <by>-<value>-<window>,
        e.g. team-ml-day): agents never refuse anything for it, and `tollgate budget list`
        shows what it would have refused, so a person decides when to enforce it
        (`tollgate budget set … --mode enforce`). A value already covered by a budget with
        the same selector, window and unit is left alone unless that budget is one --apply
        made and still observes.

        What to set each team's budget to:
          tollgate budget suggest --by team --window day --baseline 60d --headroom 130
        """)

    @Option(help: "The dimension to propose one budget per value of: team, project, key, use_case, env, …")
    var by: String = "team"

    @Option(help: "The budget window: hour, day, week or month.")
    var window: String = "day"

    @Option(help: "How much history to base it on: 60d, 8w (at most 400 days).")
    var baseline: String = "60d"

    @Option(help: "Percent of the baseline's p95 to propose (100–1000).")
    var headroom: Int = 130

    @Option(help: "What the budgets count: usd, tokens or requests.")
    var unit: String = "usd"

    @Flag(help: "Create the proposals as budgets in observe mode.")
    var apply = false

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let token = try auth.token()
        let query = "by=\(escape(by))&window=\(escape(window))&baseline=\(escape(baseline))&headroom=\(headroom)&unit=\(escape(unit))"
        let data = try await api.send("GET", "/v1/budget-suggestions?" + query, token: token)
        let report = try JSONDecoder().decode(BudgetSuggestionReport.self, from: data)
        var applied: [String: String] = [:]
        if apply {
            let budgets = try JSONDecoder().decode([BudgetView].self, from: try await api.send("GET", "/v1/budgets", token: token))
            let observing = Set(budgets.filter { $0.budget.mode == .observe }.map(\.budget.id))
            for suggestion in report.suggestions {
                if let existing = suggestion.existingBudgetID, !(existing == suggestion.budgetID && observing.contains(existing)) {
                    applied[suggestion.budgetID] = "kept \(existing)"
                    continue
                }
                var budget = Budget(id: suggestion.budgetID, selector: try BudgetSelector(parsing: suggestion.selector), unit: suggestion.unit,
                                    limit: suggestion.limit, period: suggestion.period,
                                    description: "suggested by `tollgate budget suggest`: \(report.headroomPercent)% of the p95 \(report.period.rawValue) over \(report.baselineDays) days")
                budget.mode = .observe
                let saved = try await api.send("PUT", "/v1/budgets/\(budget.id)", body: try JSONEncoder().encode(budget), token: token)
                applied[suggestion.budgetID] = (try JSONDecoder().decode(BudgetView.self, from: saved)).change ?? "saved"
            }
        }
        switch format {
        case .json: try printJSON(report)
        case .table: print(SuggestionTable(report: report, applied: apply ? applied : nil).render())
        }
    }

    private func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? text
    }
}

/// Proposals as an aligned table: selector, windows, mean, p95, max, proposed limit, the
/// current budget if any, and what `--apply` did.
struct SuggestionTable {
    var report: BudgetSuggestionReport
    var applied: [String: String]?

    func render() -> String {
        let from = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(report.from)))
        let until = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(report.until)))
        let header = "\(report.headroomPercent)% of the p95 \(report.unit.rawValue) per \(report.period.rawValue) by \(report.by), "
            + "over \(report.baselineDays) days (complete windows from \(from) to \(until))"
        guard !report.suggestions.isEmpty else { return header + "\nno \(report.by) spent anything in the baseline" }
        var lines = [["SELECTOR", "WINDOWS", "MEAN", "P95", "MAX", "SUGGESTED", "CURRENT"] + (applied == nil ? [] : ["APPLIED"])]
        for suggestion in report.suggestions {
            let unit = suggestion.unit
            let current = suggestion.existingBudgetID.map { id in "\(id): " + (suggestion.existingLimit.map(unit.format) ?? "?") } ?? "-"
            var line = [suggestion.selector, String(suggestion.windows), unit.format(suggestion.mean), unit.format(suggestion.p95),
                        unit.format(suggestion.max), unit.format(suggestion.limit), current]
            if let applied { line.append(applied[suggestion.budgetID].map { "\(suggestion.budgetID) (\($0))" } ?? "-") }
            lines.append(line)
        }
        return header + "\n" + TextColumns.align(lines, numeric: { (1...5).contains($0) }).joined(separator: "\n")
    }
}
