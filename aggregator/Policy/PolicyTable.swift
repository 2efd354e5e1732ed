import Foundation
import TollgateAggregator
import TollgateCore

/// Policies as an aligned table: what each one does, in which mode, and what it did.
struct PolicyTable {
    var views: [PolicyView]
    var now: Int64

    func render() -> String {
        var lines = [["ID", "KIND", "SCOPE", "MODELS", "MODE", "OWNER", "EXCEPTIONS", "ROUTED", "REFUSED", "DRY RUN", "REJECTED"]]
        for view in views {
            let policy = view.policy
            lines.append([
                policy.id, Self.kind(policy), policy.scope.description, Self.models(policy), policy.mode.rawValue,
                policy.owner.isEmpty ? "-" : policy.owner, String(policy.exceptions.filter { $0.untilUnix > now }.count),
                String(view.hits.routed), String(view.hits.refused), "\(view.hits.dryRunRouted)/\(view.hits.dryRunRefused)",
                String(view.rejectedBy.count),
            ])
        }
        let numeric: Set<Int> = [6, 7, 8, 9, 10]
        return TextColumns.align(lines, numeric: numeric.contains).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    }

    /// `downgrade ≥80% ml-daily`, or the kind alone.
    static func kind(_ policy: Policy) -> String {
        policy.kind == .downgrade ? "downgrade ≥\(policy.thresholdPercent)% \(policy.budgetID)" : policy.kind.rawValue
    }

    /// `claude-* → claude-haiku-4-5` for a rewrite, the patterns alone otherwise.
    static func models(_ policy: Policy) -> String {
        let patterns = policy.models.map(\.description).joined(separator: ",")
        return policy.kind.rewrites ? "\(patterns) → \(policy.target)" : patterns
    }
}
