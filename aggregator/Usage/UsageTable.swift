import Foundation
import TollgateAggregator
import TollgateCore

/// An aligned text table of usage rows, for humans: tokens in compact units (1.2M) and
/// cost in dollars, with a total line. REQUESTS are calls the provider answered; ERRORS
/// and ESTIMATED are among them (a provider error; usage estimated because the call was
/// cut short), BLOCKED are calls a budget refused, never sent. In a series the bucket is
/// the first column; the TOTAL is over every bucket.
///
/// When a policy routed any of the rows' requests, three more columns say how much: ROUTED
/// (requests sent to another model than asked), ROUTED % (of REQUESTS) and AVOIDED (what
/// routing saved: the cost at the requested model's price minus the cost).
struct UsageTable {
    var rows: [UsageRow]
    var dimensions: [UsageDimension]
    var every: UsageBucket?
    /// Grouped by tier: a TIER column, and SHARE, each row's part of the cost of the rows
    /// that differ from it only by tier (the premium share of a team's spend).
    var byTier = false

    private var showsRouting: Bool { rows.contains { $0.counters.routed != 0 || $0.counters.routingSavings != .zero } }

    func render() -> String {
        let labels = (every == nil ? [] : ["BUCKET"]) + dimensions.map { $0 == .key ? "KEY" : $0.rawValue.uppercased() } + (byTier ? ["TIER"] : [])
        var header = labels
        header += ["REQUESTS", "ERRORS", "ESTIMATED", "BLOCKED", "INPUT", "CACHED", "CACHE WRITE", "CACHE WRITE 1H", "OUTPUT", "REASONING", "COST"]
        if byTier { header.append("SHARE") }
        if showsRouting { header += ["ROUTED", "ROUTED %", "AVOIDED"] }
        var groupCost: [[String]: Int64] = [:]
        for row in rows where byTier { groupCost[shareGroup(row), default: 0] += row.counters.cost.value }
        var lines = [header]
        var total = UsageCounters()
        for row in rows {
            var line = every.map { [bucketLabel(row.bucket ?? "", $0)] } ?? []
            if let others = row.otherGroups {
                line += ["(other: \(others))"] + Array(repeating: "", count: max(0, dimensions.count - 1 + (byTier ? 1 : 0)))
            } else {
                line += dimensions.map { dimension -> String in
                    let value = row.dimensions[dimension] ?? ""
                    if dimension == .key, let name = row.keyName, !name.isEmpty { return "\(name) \(row.keyHint ?? "") (\(value.prefix(8)))" }
                    if dimension == .key, let hint = row.keyHint, !hint.isEmpty { return "\(hint) (\(value.prefix(8)))" }
                    return value.isEmpty ? "-" : value
                }
                if byTier { line.append(row.tier ?? "-") }
            }
            line += counterColumns(row.counters)
            if byTier { line.insert(Self.percent(row.counters.cost.value, of: groupCost[shareGroup(row)] ?? 0), at: line.count - (showsRouting ? 3 : 0)) }
            lines.append(line)
            total.add(row.counters)
        }
        var totalLine = ["TOTAL"] + Array(repeating: "", count: max(0, labels.count - 1)) + counterColumns(total)
        if byTier { totalLine.insert("", at: totalLine.count - (showsRouting ? 3 : 0)) }
        lines.append(totalLine)
        let numericFrom = labels.count
        return TextColumns.align(lines, numeric: { $0 >= numericFrom }).joined(separator: "\n")
    }

    /// `2026-11-02T14:00:00Z` as a person reads the bucket: `2026-11-02 14:00`, `2026-11-02`
    /// (a day, or the Monday a week starts on), `2026-11`.
    private func bucketLabel(_ start: String, _ step: UsageBucket) -> String {
        switch step {
        case .hour: String(start.prefix(16)).replacingOccurrences(of: "T", with: " ")
        case .day, .week: String(start.prefix(10))
        case .month: String(start.prefix(7))
        }
    }

    private func counterColumns(_ counters: UsageCounters) -> [String] {
        [String(counters.requests), String(counters.errors), String(counters.estimated), String(counters.blocked),
         compact(counters.tokens.input), compact(counters.tokens.cachedInput),
         compact(counters.tokens.cacheWrite), compact(counters.tokens.cacheWrite1h), compact(counters.tokens.output), compact(counters.tokens.reasoning),
         counters.cost.formatted]
            + (showsRouting ? [String(counters.routed), Self.percent(counters.routed, of: counters.requests), counters.routingSavings.formatted] : [])
    }

    /// What a row's SHARE is of: the bucket and every dimension but the tier.
    private func shareGroup(_ row: UsageRow) -> [String] {
        [row.bucket ?? ""] + dimensions.map { row.dimensions[$0] ?? "" }
    }

    /// 3 of 8 → "37.5%"; "-" of none.
    static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "-" }
        return String(format: "%.1f%%", Double(part) * 100 / Double(whole))
    }

    /// 950 → "950", 12_345 → "12.3K", 1_234_567 → "1.2M".
    private func compact(_ value: Int64) -> String {
        let units: [(Int64, String)] = [(1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")]
        for (size, suffix) in units where value >= size {
            let tenths = (value * 10 + size / 2) / size
            return "\(tenths / 10).\(tenths % 10)\(suffix)"
        }
        return String(value)
    }
}
