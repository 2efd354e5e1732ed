import Foundation

/// Where a budget is heading at its current burn rate: spend at the window's end, and when
/// it reaches its (effective) limit. Shown by `tollgate budget list`, `GET /v1/budgets`,
/// alert payloads and `tollgate_budget_forecast`.
///
/// The burn rate is the window's average so far, spent / time elapsed. It is exact (read
/// from the window's one counter, no usage query), steady, and the same on every reader.
/// A trailing hour would react faster to a surge in a month-long window, but would swing
/// with every quiet lunch hour and cost a usage scan per budget per request; a surge
/// today is what the anomaly detector reports (today against its 7-day normal).
/// Elapsed time counts at least one minute, because spend arrives in minute cells: a
/// budget's first minute is not extrapolated from a few seconds.
public struct BudgetForecast: Hashable, Sendable {
    /// Spend expected when the window ends, in the unit's measure.
    public var atWindowEnd: Int64
    /// Average spend per hour over the window so far, in the unit's measure.
    public var burnPerHour: Int64
    /// When spend reaches the effective limit at this rate, Unix seconds; `asOf` when it
    /// already has; nil when it will not before the window ends (or nothing is spent).
    public var runsOutAt: Int64?
    /// Spend already reached the effective limit.
    public var exhausted: Bool

    public init(atWindowEnd: Int64, burnPerHour: Int64, runsOutAt: Int64?, exhausted: Bool) {
        self.atWindowEnd = atWindowEnd
        self.burnPerHour = burnPerHour
        self.runsOutAt = runsOutAt
        self.exhausted = exhausted
    }

    /// The forecast for `spent` of `limit` in [`windowStart`, `windowEnd`) at `now`.
    public init(spent: Int64, limit: Int64, windowStart: Int64, windowEnd: Int64, now: Int64) {
        let length = max(1, windowEnd - windowStart)
        let elapsed = min(length, max(60, now - windowStart))
        let spent = max(0, spent)
        // Int128: a month of nanodollars times a month of seconds overflows Int64.
        let projected = Int128(spent) * Int128(length) / Int128(elapsed)
        atWindowEnd = projected > Int128(Int64.max) ? Int64.max : Int64(projected)
        let hourly = Int128(spent) * 3_600 / Int128(elapsed)
        burnPerHour = hourly > Int128(Int64.max) ? Int64.max : Int64(hourly)
        exhausted = spent >= limit
        if exhausted {
            runsOutAt = now
        } else if spent > 0 {
            // spend(t) = spent × (t − start) / elapsed reaches `limit` at start + limit × elapsed / spent (rounded up).
            let offset = (Int128(limit) * Int128(elapsed) + Int128(spent) - 1) / Int128(spent)
            let at = Int128(windowStart) + offset
            runsOutAt = at < Int128(windowEnd) ? Int64(max(Int128(now), at)) : nil
        } else {
            runsOutAt = nil
        }
    }

    /// The forecast of a status: its spend against its effective limit, as of `asOf`.
    public init(_ status: BudgetStatus) {
        self.init(spent: status.spent, limit: status.effectiveLimit, windowStart: status.windowStart,
                  windowEnd: status.windowEnd, now: status.asOf)
    }

    /// Whether spend is expected to reach the limit before the window ends.
    public var runsOut: Bool { runsOutAt != nil }
}

extension BudgetForecast: Codable {
    enum CodingKeys: String, CodingKey {
        case atWindowEnd = "at_window_end"
        case burnPerHour = "burn_per_hour"
        case runsOutAt = "runs_out_at"
        case exhausted
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(atWindowEnd, forKey: .atWindowEnd)
        try container.encode(burnPerHour, forKey: .burnPerHour)
        try container.encodeIfPresent(runsOutAt, forKey: .runsOutAt)
        try container.encode(exhausted, forKey: .exhausted)
    }
}
