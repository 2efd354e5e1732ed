import Foundation
import TollgateCore

/// Budgets as an aligned table: id, selector, window, spent, limit, % used, state.
struct BudgetTable {
    var statuses: [BudgetStatus]
    var zones: [String] = []

    func render() -> String {
        var lines = [["ID", "SELECTOR", "WINDOW", "SPENT", "LIMIT", "% USED", "STATE"]]
        for (index, status) in statuses.enumerated() {
            let zone = index < zones.count && zones[index] != "UTC" ? " (\(zones[index]))" : ""
            lines.append([status.budgetID, status.selector.description, status.period.rawValue + zone,
                          status.unit.format(status.spent), status.unit.format(status.effectiveLimit),
                          String(format: "%.1f%%", status.percentUsed), Self.state(status)])
        }
        let numeric: Set<Int> = [3, 4, 5]
        return TextColumns.align(lines, numeric: numeric.contains).joined(separator: "\n")
    }

    static func state(_ status: BudgetStatus) -> String {
        let state = enforcedState(status)
        return status.mode == .observe ? "\(state) (observe)" : state
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
