import Foundation
import TollgateAggregator
import TollgateCore

/// A showback report as an aligned table (dollars rounded to cents, percentages to 0.1) or
/// as CSV (exact decimal dollars, one column per figure, for a spreadsheet).
struct ReportTable {
    var report: ShowbackReport

    func render() -> String {
        var lines = [[report.by.uppercased(), "SPEND", "SHARE", "BUDGET", "USED", "CHANGE", "CHANGE %", "TOP MODELS", "TOP USE CASES", "ESTIMATED"]]
        for row in report.rows + [report.total] {
            lines.append([
                row.value.isEmpty ? "(none)" : row.value,
                money(row.spendNanousd),
                percent(row.sharePercent),
                row.budget.map { "\(money($0.monthLimitNanousd)) (\($0.id), \($0.period.rawValue))" } ?? "no budget",
                row.budget.map { percent($0.usedPercent) } ?? "-",
                (row.changeNanousd > 0 ? "+" : "") + money(row.changeNanousd),
                row.changePercent.map { ($0 > 0 ? "+" : "") + percent($0) } ?? "new",
                names(row.topModels),
                names(row.topUseCases),
                "\(money(row.estimatedNanousd)) (\(percent(row.estimatedPercent)))",
            ])
        }
        let numeric: Set<Int> = [1, 2, 4, 5, 6]
        let header = "Showback \(report.month) by \(report.by) (UTC, \(report.from) to \(report.until)); change against \(report.previousMonth)"
        return ([header, ""] + TextColumns.align(lines, numeric: { numeric.contains($0) })).joined(separator: "\n")
    }

    func csv() -> String {
        var writer = CSVWriter()
        writer.append([report.by, "spend_usd", "share_percent", "budget_id", "budget_period", "budget_month_usd", "budget_used_percent",
                       "budget_variance_usd", "previous_spend_usd", "change_usd", "change_percent", "top_models", "top_use_cases",
                       "estimated_usd", "estimated_percent", "requests"])
        for row in report.rows + [report.total] {
            writer.append([
                row.value, exact(row.spendNanousd), String(row.sharePercent), row.budget?.id, row.budget?.period.rawValue,
                row.budget.map { exact($0.monthLimitNanousd) }, row.budget.map { String($0.usedPercent) },
                row.budget.map { exact($0.varianceNanousd) }, exact(row.previousSpendNanousd), exact(row.changeNanousd),
                row.changePercent.map { String($0) }, row.topModels.map(\.name).joined(separator: ";"),
                row.topUseCases.map(\.name).joined(separator: ";"), exact(row.estimatedNanousd), String(row.estimatedPercent),
                String(row.requests),
            ])
        }
        return writer.text
    }

    private func money(_ nanodollars: Int64) -> String { Nanodollars(nanodollars).formatted }
    private func exact(_ nanodollars: Int64) -> String { Nanodollars(nanodollars).decimalUSD }

    private func percent(_ value: Double) -> String { String(format: "%.1f%%", value) }

    private func names(_ shares: [ShowbackShare]) -> String {
        shares.isEmpty ? "-" : shares.map { $0.name.isEmpty ? "(none)" : $0.name }.joined(separator: ", ")
    }
}
