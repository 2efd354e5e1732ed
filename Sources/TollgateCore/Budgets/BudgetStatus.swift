import Foundation

/// Where a budget stands in its window, from least to most severe.
public enum BudgetState: Hashable, Sendable {
    case ok
    /// Spend reached this soft threshold (percent of the effective limit), the highest one crossed.
    case warning(thresholdPercent: Int)
    /// Spend reached the limit but the budget does not block (yet): `alert` action, below any ceiling.
    case overLimit
    /// Spend reached the block-at amount: agents refuse requests this budget covers.
    case blocked

    /// The one question an agent's gate asks.
    public var isBlocking: Bool { self == .blocked }

    /// The stable JSON name: `ok`, `warning`, `over_limit`, `blocked`.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .warning: "warning"
        case .overLimit: "over_limit"
        case .blocked: "blocked"
        }
    }
}

/// A budget's standing in its current window: what the aggregator pushes to agents and
/// what `tollgate budget list` shows. Self-contained, so an agent needs nothing else to
/// decide, explain a block (`budget_id`, `owner`) and know when it lifts (`window_end`).
public struct BudgetStatus: Hashable, Sendable {
    public var budgetID: String
    public var selector: BudgetSelector
    public var unit: BudgetUnit
    public var period: BudgetPeriod
    public var action: BudgetAction
    public var owner: String
    /// The budget's configured limit.
    public var limit: Int64
    /// The limit in force now: the configured one raised by active exemptions.
    public var effectiveLimit: Int64
    /// Agents refuse requests once `spent >= blockAt`; nil when the budget never blocks.
    public var blockAt: Int64?
    public var spent: Int64
    /// The current window, [windowStart, windowEnd) in Unix seconds. After `windowEnd`, spend is 0 again.
    public var windowStart: Int64
    public var windowEnd: Int64
    public var state: BudgetState
    /// spent / effective limit × 100 (100 when the limit is 0); for display only, never for decisions.
    public var percentUsed: Double
    /// When this was computed, Unix seconds.
    public var asOf: Int64
    /// `observe`: the gate never refuses for it, it counts what it would have refused.
    public var mode: BudgetMode = .enforce
    /// Near the limit the aggregator leases what remains: agents admit only within a slice
    /// granted to them (DESIGN.md, "Near the limit"). Set by the aggregator's lease desk.
    public var leased = false
    /// How far the fleet may spend past `blockAt`, in the unit's measure, as the aggregator
    /// computes it now; nil when it has no figure (leases off with no spend seen yet, or no block).
    public var overshootBound: Int64? = nil

    public var isBlocking: Bool { state.isBlocking }

    /// What may still be spent before agents block; nil when the budget never blocks.
    public var remaining: Int64? { blockAt.map { max(0, $0 - spent) } }

    /// Evaluates `budget` with `spent` in the window containing `now`.
    public static func evaluate(budget: Budget, exemptions: [BudgetExemption], spent: Int64, now: Int64) -> BudgetStatus {
        evaluate(budget: budget, exemptions: exemptions, spent: spent,
                 window: budget.period.window(containing: now, timeZone: budget.zone), now: now)
    }

    public static func evaluate(budget: Budget, exemptions: [BudgetExemption], spent: Int64, now: Date) -> BudgetStatus {
        evaluate(budget: budget, exemptions: exemptions, spent: spent, now: Int64(now.timeIntervalSince1970.rounded(.down)))
    }

    /// Evaluates `spent` for a known window (callers that already computed it).
    public static func evaluate(budget: Budget, exemptions: [BudgetExemption], spent: Int64, window: BudgetWindow, now: Int64) -> BudgetStatus {
        let own = exemptions.filter { $0.budgetID == budget.id }
        let effective = BudgetExemption.effectiveLimit(budget.limit, exemptions: own, at: now)
        let blockAt = budget.blockAt(effectiveLimit: effective)
        let state: BudgetState
        if let blockAt, spent >= blockAt {
            state = .blocked
        } else if spent >= effective {
            state = .overLimit
        } else if let threshold = budget.thresholds.last(where: { spent >= Budget.percent($0, of: effective) && spent > 0 }) {
            state = .warning(thresholdPercent: threshold)
        } else {
            state = .ok
        }
        // Two decimals, rounded here so the value survives JSON unchanged.
        let percent = effective > 0 ? (Double(spent) * 10_000 / Double(effective)).rounded() / 100 : (spent > 0 ? 100 : 0)
        return BudgetStatus(budgetID: budget.id, selector: budget.selector, unit: budget.unit, period: budget.period,
                            action: budget.action, owner: budget.owner, limit: budget.limit, effectiveLimit: effective,
                            blockAt: blockAt, spent: spent, windowStart: window.start, windowEnd: window.end,
                            state: state, percentUsed: percent, asOf: now, mode: budget.mode)
    }

    /// Every alert level `spent` has reached: soft thresholds, 100 (the limit) and the hard
    /// ceiling, in percent of the effective limit. Alerts fire once per level and window.
    public static func crossedLevels(budget: Budget, effectiveLimit: Int64, spent: Int64) -> [Int] {
        guard spent > 0 else { return [] }
        let levels = budget.thresholds + [100] + (budget.hardCeilingPercent.map { [$0] } ?? [])
        return levels.filter { spent >= Budget.percent($0, of: effectiveLimit) }
    }
}

extension BudgetStatus: Codable {
    enum CodingKeys: String, CodingKey {
        case budgetID = "budget_id"
        case selector, unit, period, action, owner, limit
        case effectiveLimit = "effective_limit"
        case blockAt = "block_at"
        case spent
        case windowStart = "window_start"
        case windowEnd = "window_end"
        case state
        case thresholdPercent = "threshold_percent"
        case isBlocking = "is_blocking"
        case remaining
        case percentUsed = "percent_used"
        case asOf = "as_of"
        case mode
        case leased
        case overshootBound = "overshoot_bound"
        case forecast
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(budgetID, forKey: .budgetID)
        try container.encode(selector, forKey: .selector)
        try container.encode(unit, forKey: .unit)
        try container.encode(period, forKey: .period)
        try container.encode(action, forKey: .action)
        try container.encode(owner, forKey: .owner)
        try container.encode(limit, forKey: .limit)
        try container.encode(effectiveLimit, forKey: .effectiveLimit)
        try container.encodeIfPresent(blockAt, forKey: .blockAt)
        try container.encode(spent, forKey: .spent)
        try container.encode(windowStart, forKey: .windowStart)
        try container.encode(windowEnd, forKey: .windowEnd)
        try container.encode(state.name, forKey: .state)
        if case .warning(let threshold) = state { try container.encode(threshold, forKey: .thresholdPercent) }
        try container.encode(isBlocking, forKey: .isBlocking)
        try container.encodeIfPresent(remaining, forKey: .remaining)
        try container.encode(percentUsed, forKey: .percentUsed)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(mode, forKey: .mode)
        try container.encode(leased, forKey: .leased)
        try container.encodeIfPresent(overshootBound, forKey: .overshootBound)
        // Derived, so written for readers (API, alert payloads) and recomputed, not read back.
        try container.encode(BudgetForecast(self), forKey: .forecast)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        budgetID = try container.decode(String.self, forKey: .budgetID)
        selector = try container.decode(BudgetSelector.self, forKey: .selector)
        unit = try container.decode(BudgetUnit.self, forKey: .unit)
        period = try container.decode(BudgetPeriod.self, forKey: .period)
        action = try container.decode(BudgetAction.self, forKey: .action)
        owner = try container.decodeIfPresent(String.self, forKey: .owner) ?? ""
        limit = try container.decode(Int64.self, forKey: .limit)
        effectiveLimit = try container.decode(Int64.self, forKey: .effectiveLimit)
        blockAt = try container.decodeIfPresent(Int64.self, forKey: .blockAt)
        spent = try container.decode(Int64.self, forKey: .spent)
        windowStart = try container.decode(Int64.self, forKey: .windowStart)
        windowEnd = try container.decode(Int64.self, forKey: .windowEnd)
        let name = try container.decode(String.self, forKey: .state)
        switch name {
        case "ok": state = .ok
        case "warning": state = .warning(thresholdPercent: try container.decode(Int.self, forKey: .thresholdPercent))
        case "over_limit": state = .overLimit
        case "blocked": state = .blocked
        default:
            throw DecodingError.dataCorruptedError(forKey: .state, in: container, debugDescription: "unknown budget state '\(name)'")
        }
        percentUsed = try container.decodeIfPresent(Double.self, forKey: .percentUsed) ?? 0
        asOf = try container.decodeIfPresent(Int64.self, forKey: .asOf) ?? 0
        mode = try container.decodeIfPresent(BudgetMode.self, forKey: .mode) ?? .enforce
        leased = try container.decodeIfPresent(Bool.self, forKey: .leased) ?? false
        overshootBound = try container.decodeIfPresent(Int64.self, forKey: .overshootBound)
    }
}
