import TollgateCore

/// Orders usage rows the way an analyst reads them, costliest first (per bucket in a series),
/// and cuts a ranking to its top N without losing money: whatever is cut is summed into one
/// `other_groups` row at the end of its bucket, so every total still reconciles exactly.
public enum UsageRanking {
    /// The largest `top` accepted: more groups than this in one answer is a dump, not a ranking.
    public static let maxTop = 10_000

    /// Rows by bucket (oldest first), then cost (highest first); ties by dimension values, so
    /// the order, and thus which groups a `top` keeps, never depends on a hash seed.
    public static func rank(_ rows: [UsageRow], top: Int? = nil) -> [UsageRow] {
        let sorted = rows.sorted(by: costlierFirst)
        guard let top else { return sorted }
        var result: [UsageRow] = []
        var start = sorted.startIndex
        while start < sorted.endIndex {
            let bucket = sorted[start].bucket
            let end = sorted[start...].firstIndex { $0.bucket != bucket } ?? sorted.endIndex
            let kept = min(top, end - start)
            result += sorted[start..<start + kept]
            if start + kept < end {
                var other = UsageCounters()
                for row in sorted[(start + kept)..<end] { other.add(row.counters) }
                result.append(UsageRow(dimensions: [:], keyHint: nil, counters: other, bucket: bucket, otherGroups: end - start - kept))
            }
            start = end
        }
        return result
    }

    static func costlierFirst(_ a: UsageRow, _ b: UsageRow) -> Bool {
        // RFC 3339 in UTC with a fixed width sorts as text in time order.
        if a.bucket != b.bucket { return (a.bucket ?? "") < (b.bucket ?? "") }
        if a.counters.cost != b.counters.cost { return a.counters.cost > b.counters.cost }
        for dimension in UsageDimension.allCases where a.dimensions[dimension] != b.dimensions[dimension] {
            return (a.dimensions[dimension] ?? "") < (b.dimensions[dimension] ?? "")
        }
        return false
    }
}
