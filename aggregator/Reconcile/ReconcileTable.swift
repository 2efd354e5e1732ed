import TollgateAggregator
import TollgateCore

/// The reconciliation for people: one line per row, each compared token class as
/// `tollgate/provider` with exact counts (a rounded 1.2K would hide the difference), costs
/// in dollars, the difference and its percentage, and a summary line.
struct ReconcileTable {
    var report: ReconcileReport

    func render() -> String {
        let header = ["DAY", "PROVIDER", "MODEL", "KEY", "MATCH", "INPUT T/P", "CACHED T/P", "CACHE WRITE T/P", "OUTPUT T/P",
                      "TOLLGATE", "PROVIDER", "DIFF", "DIFF %", "STATUS"]
        var lines = [header]
        for row in report.rows {
            let key = switch row.key {
            case "": "(unmapped)"
            case "*": "* (all keys)"
            default: row.keyHint.map { "\($0) (\(row.key.prefix(8)))" } ?? String(row.key.prefix(8))
            }
            var line = [row.day, row.provider.rawValue, row.model.isEmpty ? "-" : row.model, key, row.keyMatch.rawValue]
            for tokenClass in TokenClass.allCases {
                if let theirs = row.providerTokens[tokenClass] {
                    line.append("\(row.tollgateTokens[tokenClass] ?? 0)/\(theirs)")
                } else {
                    line.append("-")
                }
            }
            line.append(row.tollgateCost.formatted)
            line.append(row.providerCost?.formatted ?? "(day total)")
            line.append(row.costDifference.map { ($0.value > 0 ? "+" : "") + $0.formatted } ?? "-")
            line.append(row.costDifferenceBasisPoints.map(Self.percent) ?? "-")
            line.append(row.status.rawValue)
            lines.append(line)
        }
        let numeric = Set(5..<13)
        var text = TextColumns.align(lines, numeric: numeric.contains).joined(separator: "\n")
        var counts: [ReconcileStatus: Int] = [:]
        for row in report.rows { counts[row.status, default: 0] += 1 }
        let summary = [ReconcileStatus.match, .differs, .missingInTollgate, .missingAtProvider]
            .compactMap { status in counts[status].map { "\($0) \(status.rawValue)" } }
        text += "\n\n\(report.rows.count) rows from \(Reconciliation.dayString(report.since)) to \(Reconciliation.dayString(report.until - 86_400)) (UTC)"
        text += summary.isEmpty ? "" : ": " + summary.joined(separator: ", ")
        text += "; tolerance \(Self.percent(report.tolerance.basisPoints).drop { $0 == "+" }) or \(Nanodollars(report.tolerance.costSlack).formatted) on costs"
        for row in report.rows where !row.reasons.isEmpty {
            text += "\n  \(row.day) \(row.provider.rawValue) \(row.model) \(row.key.isEmpty ? "(unmapped)" : String(row.key.prefix(8))): \(row.reasons.joined(separator: "; "))"
        }
        return text
    }

    /// 1234 basis points → "+12.34%".
    static func percent(_ basisPoints: Int64) -> String {
        let magnitude = basisPoints.magnitude
        let fraction = magnitude % 100
        return "\(basisPoints > 0 ? "+" : basisPoints < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }
}
