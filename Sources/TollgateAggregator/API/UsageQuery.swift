import TollgateCore

/// The parameters of `GET /v1/usage`, read and checked before anything is scanned, so a
/// typo is a 400 that names what is expected and never a wider or empty answer.
///
/// The window is half-open, [since, until): it holds every minute cell that starts before
/// `until` and ends after `since`. So `since=2026-11-01&until=2026-12-01` is November
/// exactly, and consecutive windows never count a minute twice.
struct UsageQuery: Equatable {
    var fromMinute: Int64
    var toMinute: Int64
    var groupBy: [UsageDimension]
    var filters: [UsageFilter]
    var every: UsageBucket?
    /// Keep the N costliest groups (per bucket in a series) and fold the rest into one row.
    var top: Int?

    /// `/v1/usage`'s own parameters; every other one is a `dimension=value` filter.
    static let parameters = ["since", "until", "by", "every", "top"]

    init(_ query: [String: String], now: Int64) throws(UsageQueryError) {
        let since: Int64, until: Int64
        do {
            since = try TimeExpression.parse(query["since"] ?? "0", now: now)
            // Default: through the current minute, whatever second of it this is.
            until = try query["until"].map { try TimeExpression.parse($0, now: now) } ?? now + 60
        } catch {
            throw UsageQueryError(.badTime, "since and until: \(error)")
        }
        guard until >= since else {
            throw UsageQueryError(.badRange, "until (\(query["until"] ?? "")) is before since (\(query["since"] ?? "0")); "
                + "expected an until at or after the since")
        }
        fromMinute = Self.floorDiv(since, 60)
        toMinute = until == since ? fromMinute : Self.floorDiv(until + 59, 60)
        if let step = query["every"] {
            guard let bucket = UsageBucket(rawValue: step) else {
                throw UsageQueryError(.badEvery, "every '\(step)' is not a step; expected one of \(UsageBucket.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            every = bucket
        }
        if let text = query["top"] {
            guard let count = Int(text), (1...UsageRanking.maxTop).contains(count) else {
                throw UsageQueryError(.badTop, "top '\(text)' is not a count; expected a whole number from 1 to \(UsageRanking.maxTop)")
            }
            top = count
        }
        do {
            groupBy = try UsageDimension.parseList(query["by"] ?? "key,model")
        } catch {
            throw UsageQueryError(.unknownDimension, "by: \(error)")
        }
        filters = []
        for (name, value) in query.sorted(by: { $0.key < $1.key }) where !Self.parameters.contains(name) {
            // Any other parameter must name a dimension: a typo must not widen the answer.
            guard let dimension = UsageDimension(rawValue: name) else {
                let known = (Self.parameters + UsageDimension.allCases.map(\.rawValue)).joined(separator: ", ")
                throw UsageQueryError(.unknownDimension, "unknown parameter '\(name)'; expected \(known)")
            }
            guard !value.isEmpty else {
                throw UsageQueryError(.badFilter, "filter on '\(name)' has no value; write \(name)=VALUE")
            }
            filters.append(UsageFilter(dimension, value))
        }
    }

    private static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }
}

/// A refused usage query: the message for the 400, the reason for `tollgate_api_rejected_total`.
struct UsageQueryError: Error, CustomStringConvertible {
    enum Reason: String, CaseIterable {
        case badTime = "bad_time"
        case badRange = "bad_range"
        case badEvery = "bad_every"
        case badTop = "bad_top"
        case badFilter = "bad_filter"
        case unknownDimension = "unknown_dimension"
    }

    var reason: Reason
    var description: String

    init(_ reason: Reason, _ description: String) {
        self.reason = reason
        self.description = description
    }
}
