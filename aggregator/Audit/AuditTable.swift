import Foundation
import TollgateAggregator
import TollgateCore

/// The audit log for people: one line per change, before and after as compact JSON
/// reduced to the fields that changed.
struct AuditTable {
    var entries: [AuditEntry]

    func render() -> String {
        guard !entries.isEmpty else { return "no changes recorded" }
        var lines = [["TIME", "ACTOR", "TOKEN", "ACTION", "TARGET", "CHANGE"]]
        for entry in entries {
            lines.append([Self.time(entry.atUnixMs), entry.actor, entry.token.rawValue, entry.action, entry.target,
                          Self.change(before: entry.before, after: entry.after)])
        }
        return TextColumns.align(lines, numeric: { _ in false }).joined(separator: "\n")
    }

    static func time(_ unixMs: Int64) -> String {
        let seconds = unixMs / 1_000
        let minute = CivilDate.rfc3339(minute: seconds >= 0 ? seconds / 60 : (seconds - 59) / 60)
        let second = ((seconds % 60) + 60) % 60
        return minute.replacingOccurrences(of: ":00Z", with: ":\(second < 10 ? "0" : "")\(second)Z")
    }

    /// `limit: 100 → 150`, one pair per changed field; a whole object for a creation or removal.
    static func change(before: AuditJSON?, after: AuditJSON?) -> String {
        switch (before, after) {
        case (.object(let old)?, .object(let new)?):
            let fields = Set(old.keys).union(new.keys).sorted().filter { old[$0] != new[$0] }
            return fields.map { "\($0): \(old[$0]?.compact ?? "-") → \(new[$0]?.compact ?? "-")" }.joined(separator: "; ")
        case (nil, let after?): return "+ \(after.compact)"
        case (let before?, nil): return "- \(before.compact)"
        case (let before?, let after?): return "\(before.compact) → \(after.compact)"
        case (nil, nil): return ""
        }
    }
}
