import Foundation
import TollgateCore

/// `anomalies:` in the aggregator's config: when a scope's spend today counts as abnormal,
/// and how often it is checked.
public struct AnomalySettings: Sendable, Equatable {
    /// `enabled`: the periodic check and its alerts (`GET /v1/anomalies` answers either way).
    public var enabled = true
    /// `ratio`: today's spend so far at or above this many times the 7-day normal is an anomaly.
    public var ratio = 3.0
    /// `min_spend_usd`: below this, today's spend is never an anomaly, whatever the ratio
    /// ($0.01 against a normal $0.001 is noise, not news).
    public var minSpend = Nanodollars(5 * Nanodollars.perDollar)
    /// `interval_ms`: how often the check runs.
    public var interval = Duration.seconds(60)

    public init() {}

    init(_ section: ConfigNode) throws {
        try section.rejectUnknownKeys(allowed: ["enabled", "ratio", "min_spend_usd", "interval_ms"])
        enabled = try section.bool("enabled", default: enabled)
        if let text = try section.optionalString("ratio") {
            guard let value = Double(text), value.isFinite, value > 1, value <= 1_000 else {
                throw ConfigError.invalid(key: section.keyPath("ratio"), value: text,
                                          expected: "a number above 1 and at most 1000: today's spend at this many times the 7-day normal is an anomaly (default 3)")
            }
            ratio = value
        }
        if let text = try section.optionalString("min_spend_usd") {
            guard let amount = try? BudgetAmount(parsing: text + "usd") else {
                throw ConfigError.invalid(key: section.keyPath("min_spend_usd"), value: text,
                                          expected: "a dollar amount of zero or more, e.g. 5 or 0.50 (default 5)")
            }
            minSpend = Nanodollars(amount.value)
        }
        interval = try section.milliseconds("interval_ms", default: interval, range: 1_000...3_600_000)
    }
}
