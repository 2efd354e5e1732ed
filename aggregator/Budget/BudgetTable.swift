import Foundation
import TollgateCore

/// Budgets as an aligned table: id, selector, window, spent, limit, % used, forecast at
/// the window's end, when it runs out at the current burn rate, state.
struct BudgetTable {
    var statuses: [BudgetStatus]
    var zones: [String] = []
    /// Per status, what it would have refused over the fleet (`BudgetView.wouldBlock`).
    var wouldBlock: [Int64?] = []

    func render() -> String {
        var lines = [["ID", "SELECTOR", "WINDOW", "SPENT", "LIMIT", "% USED", "FORECAST", "RUNS OUT", "STATE"]]
        for (index, status) in statuses.enumerated() {
            let zone = index < zones.count && zones[index] != "UTC" ? " (\(zones[index]))" : ""
            lines.append([status.budgetID, status.selector.description, status.period.rawValue + zone,
                          status.unit.format(status.spent), status.unit.format(status.effectiveLimit),
                          String(format: "%.1f%%", status.percentUsed),
                          status.unit.format(BudgetForecast(status).atWindowEnd), Self.runsOut(BudgetForecast(status), now: status.asOf),
                          Self.state(status, wouldBlock: index < wouldBlock.count ? wouldBlock[index] : nil)])
        }
        let numeric: Set<Int> = [3, 4, 5, 6]
        return TextColumns.align(lines, numeric: numeric.contains).joined(separator: "\n")
    }

    /// `reached` once spend is at the limit, `in 3h12m` when the window's burn rate gets
    /// there before the window ends, `-` when it does not.
    static func runsOut(_ forecast: BudgetForecast, now: Int64) -> String {
        if forecast.exhausted { return "reached" }
        guard let at = forecast.runsOutAt else { return "-" }
        return "in " + duration(at - now)
    }

    /// `45s`, `12m`, `3h12m`, `4d6h`.
    static func duration(_ seconds: Int64) -> String {
        let seconds = max(0, seconds)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3_600 { return "\(seconds / 60)m" }
        if seconds < 86_400 { return "\(seconds / 3_600)h\(String(format: "%02d", seconds % 3_600 / 60))m" }
        return "\(seconds / 86_400)d\(seconds % 86_400 / 3_600)h"
    }

    /// An observe budget blocks nothing, so its state is what it would have done:
    /// `observe (would have refused 37)`, summed over the fleet in the current window.
    /// An enforced budget says so too when agents in `quota.enforcement: observe` counted any.
    static func state(_ status: BudgetStatus, wouldBlock: Int64?) -> String {
        if status.mode == .observe {
            return wouldBlock.map { "observe (would have refused \($0))" } ?? "observe"
        }
        let state = enforcedState(status)
        guard let wouldBlock, wouldBlock > 0 else { return state }
        return "\(state); observing agents would have refused \(wouldBlock)"
    }

    private static func enforcedState(_ status: BudgetStatus) -> String {
        switch status.state {
        case .ok: "ok"
        case .warning(let threshold): "warning (\(threshold)%)"
        // Past the limit, not blocking: an alert budget, or one whose hard ceiling is higher.
        case .overLimit: status.blockAt.map { "over limit (blocks at \(status.unit.format($0)))" } ?? "over limit (alert only)"
        case .blocked: "BLOCKED"
        }
    }
}
