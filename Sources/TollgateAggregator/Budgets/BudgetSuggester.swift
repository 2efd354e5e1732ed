import Foundation
import TollgateCore

/// Proposes a budget per value of a dimension: headroom × the 95th percentile of its spend
/// per window over a baseline (by default 130 % of the p95 daily spend over 60 days).
///
/// Why the p95 and not the mean: a daily cap at 130 % of the mean blocks every busy day
/// (weekdays run well above a mean that weekends pull down), and the maximum is one
/// incident's figure. The p95 is the ordinary busy window; the headroom (130–150 % is the
/// common practice) covers growth. With few windows (weeks or months in 60 days) the p95
/// is the largest of them. Only complete windows count (UTC calendar windows before the
/// current one), each from the value's first spend in the baseline, zeros included: a team
/// that started last week is judged on last week, not on 50 empty days before it.
struct BudgetSuggester: Sendable {
    var dimension: UsageDimension
    var period: BudgetPeriod
    var unit: BudgetUnit
    var baselineDays: Int
    var headroomPercent: Int

    /// The usage series step of each period suggestions support.
    static let buckets: [BudgetPeriod: UsageBucket] = [.hour: .hour, .day: .day, .week: .week, .month: .month]

    /// The baseline's complete windows at `now`, as minutes: [first, end).
    func baseline(now: Int64) -> Range<Int64> {
        let bucket = Self.buckets[period] ?? .day
        let minute = now >= 0 ? now / 60 : (now - 59) / 60
        let end = bucket.start(ofMinute: minute)
        let earliest = end - Int64(baselineDays) * 1_440
        var first = bucket.start(ofMinute: earliest)
        if first < earliest { first = bucket.end(ofMinute: first) }
        return first..<max(first, end)
    }

    func read(_ store: UsageStore, now: Int64) throws -> BudgetSuggestionReport {
        let range = baseline(now: now)
        let groups = try store.query(fromMinute: range.lowerBound, toMinute: range.upperBound, groupBy: [dimension],
                                     every: Self.buckets[period] ?? .day)
        return report(groups: groups, baseline: range, existing: store.budgets().map(\.budget))
    }

    /// The proposals from `groups` (one per value and window), largest limit first.
    func report(groups: [UsageGroup], baseline: Range<Int64>, existing: [Budget]) -> BudgetSuggestionReport {
        let bucket = Self.buckets[period] ?? .day
        var windowStarts: [Int64] = []
        var start = baseline.lowerBound
        while start < baseline.upperBound {
            windowStarts.append(start)
            start = bucket.end(ofMinute: start)
        }
        var perValue: [String: [Int64: Int64]] = [:]
        for group in groups {
            let value = group.dimensions[dimension]
            guard !value.isEmpty, let window = group.bucketStartMinute else { continue }
            perValue[value, default: [:]][window, default: 0] &+= unit.amount(of: group.counters)
        }
        var suggestions: [BudgetSuggestion] = []
        for (value, spend) in perValue {
            guard let first = spend.keys.min() else { continue }
            let amounts = windowStarts.filter { $0 >= first }.map { spend[$0] ?? 0 }.sorted()
            guard let largest = amounts.last, largest > 0 else { continue }
            let p95 = amounts[Swift.max(0, Int((Double(amounts.count) * 0.95).rounded(.up)) - 1)]
            let mean = amounts.reduce(0, &+) / Int64(amounts.count)
            let selector = "\(dimension.rawValue)=\(value)"
            let match = existing.first { $0.period == period && $0.unit == unit && $0.selector.description == selector }
            suggestions.append(BudgetSuggestion(
                selector: selector, dimension: dimension.rawValue, value: value, unit: unit, period: period, windows: amounts.count,
                mean: mean, p95: p95, max: largest, limit: limit(p95: p95), budgetID: Self.budgetID(dimension, value, period),
                existingBudgetID: match?.id, existingLimit: match?.limit))
        }
        suggestions.sort { $0.limit != $1.limit ? $0.limit > $1.limit : $0.value < $1.value }
        return BudgetSuggestionReport(by: dimension.rawValue, period: period, unit: unit, baselineDays: baselineDays,
                                      headroomPercent: headroomPercent, from: baseline.lowerBound * 60, until: baseline.upperBound * 60,
                                      suggestions: suggestions)
    }

    /// p95 × headroom %, rounded up; dollars to the next cent.
    func limit(p95: Int64) -> Int64 {
        let raw = (Int128(p95) * Int128(headroomPercent) + 99) / 100
        let step: Int128 = unit == .usd ? 10_000_000 : 1
        let rounded = (raw + step - 1) / step * step
        return rounded > Int128(Int64.max) ? Int64.max : Int64(rounded)
    }

    /// `team-ml-day`: lowercase, anything an id refuses turned into `-`, at most 128 characters.
    static func budgetID(_ dimension: UsageDimension, _ value: String, _ period: BudgetPeriod) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        let cleaned = String(value.lowercased().map { allowed.contains($0) ? $0 : "-" })
        let prefix = dimension.rawValue.replacingOccurrences(of: "_", with: "-") + "-"
        let suffix = "-" + period.rawValue
        return prefix + String(cleaned.prefix(128 - prefix.count - suffix.count)) + suffix
    }
}
