import Foundation
import TollgateCore

/// One budget alert: spend reached a level (a soft threshold, the limit, or the hard
/// ceiling) in a window. Fires once per budget, level and window.
public struct BudgetAlert: Hashable, Sendable {
    public enum Kind: String, Sendable, Codable {
        case threshold
        case limit
        case hardCeiling = "hard_ceiling"
    }

    public var kind: Kind
    /// Percent of the effective limit: a threshold, 100, or the ceiling.
    public var level: Int
    public var status: BudgetStatus
    public var firedAt: Int64

    public init(level: Int, status: BudgetStatus, hardCeiling: Int?, firedAt: Int64) {
        self.level = level
        self.status = status
        self.firedAt = firedAt
        kind = level == 100 ? .limit : (level == hardCeiling ? .hardCeiling : .threshold)
    }

    /// One line for people (logs, Slack).
    public var text: String {
        let status = status
        let what: String = switch kind {
        case .threshold: "reached \(level)% of its limit"
        case .limit: status.blockAt == status.effectiveLimit ? "reached its limit and now blocks" : "reached its limit"
        case .hardCeiling: "reached its hard ceiling (\(level)%) and now blocks"
        }
        let owner = status.owner.isEmpty ? "" : " Owner: \(status.owner)."
        let window = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(status.windowStart)))
        let forecast = BudgetForecast(status)
        let outlook = forecast.exhausted ? "" : " At this window's rate: \(status.unit.format(forecast.atWindowEnd)) by its end"
            + (forecast.runsOutAt.map { ", the limit reached at " + ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval($0))) } ?? "")
            + "."
        return "Tollgate budget \(status.budgetID) (\(status.selector)) \(what): \(status.unit.format(status.spent)) of "
            + "\(status.unit.format(status.effectiveLimit)) this \(status.period.rawValue) (window from \(window)).\(outlook)\(owner)"
    }
}

extension BudgetAlert: Encodable {
    enum CodingKeys: String, CodingKey {
        case text, kind, level, status
        case firedAt = "fired_at"
    }

    /// Slack-compatible (`text`), with the structured fields beside it.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text, forKey: .text)
        try container.encode(kind, forKey: .kind)
        try container.encode(level, forKey: .level)
        try container.encode(status, forKey: .status)
        try container.encode(firedAt, forKey: .firedAt)
    }
}
