import TollgateCore

/// `tollgate usage --format csv`: one record per row, under a header of the same names as
/// the JSON's keys, so a script can switch formats without a new vocabulary. Money is exact
/// decimal dollars (`cost_usd`, nine places), never a rounded float.
///
/// There is no TOTAL record: a spreadsheet sums a column itself, and a total inside the data
/// would be counted twice by every pivot table. With `top`, an `other_groups` column holds how
/// many groups the row folds (0 on ordinary rows); its dimension fields are empty.
public struct UsageCSV {
    public var dimensions: [UsageDimension]
    public var series: Bool
    public var top: Bool
    /// Grouped by the served model's tier: a `tier` column after the dimensions.
    public var tier: Bool

    public init(dimensions: [UsageDimension], series: Bool, top: Bool, tier: Bool = false) {
        self.dimensions = dimensions
        self.series = series
        self.top = top
        self.tier = tier
    }

    public static let counterColumns = [
        "requests", "errors", "estimated", "blocked", "unpriced", "input_tokens", "cached_input_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "routed", "routing_savings_usd",
    ]

    public var header: [String] {
        (series ? ["bucket"] : []) + dimensions.map(\.rawValue) + (tier ? ["tier"] : []) + (dimensions.contains(.key) ? ["key_hint"] : [])
            + (top ? ["other_groups"] : []) + Self.counterColumns
    }

    public func render(_ rows: [UsageRow]) -> String {
        var text = CSV.record(header)
        for row in rows {
            var fields = series ? [row.bucket ?? ""] : []
            fields += dimensions.map { row.dimensions[$0] ?? "" }
            if tier { fields.append(row.tier ?? "") }
            if dimensions.contains(.key) { fields.append(row.keyHint ?? "") }
            if top { fields.append(String(row.otherGroups ?? 0)) }
            let counters = row.counters
            fields += [counters.requests, counters.errors, counters.estimated, counters.blocked, counters.unpriced,
                       counters.tokens.input, counters.tokens.cachedInput, counters.tokens.cacheWrite, counters.tokens.cacheWrite1h,
                       counters.tokens.output, counters.tokens.reasoning].map { String($0) }
            fields += [counters.cost.decimalUSD, String(counters.routed), counters.routingSavings.decimalUSD]
            text += CSV.record(fields)
        }
        return text
    }
}
