import Foundation
import TollgateCore

/// A budget proposed for one value of a dimension from its observed spend
/// (`GET /v1/budget-suggestions`, `tollgate budget suggest`).
public struct BudgetSuggestion: Codable, Hashable, Sendable {
    /// The selector the budget would have: `team=ml`.
    public var selector: String
    public var dimension: String
    public var value: String
    public var unit: BudgetUnit
    public var period: BudgetPeriod
    /// Complete windows observed in the baseline, from the value's first spend on (zeros included).
    public var windows: Int
    /// Per window over the baseline, in the unit's measure.
    public var mean: Int64
    public var p95: Int64
    public var max: Int64
    /// p95 × headroom, rounded up (usd: to the cent).
    public var limit: Int64
    /// The id `--apply` creates it under.
    public var budgetID: String
    /// A budget that already covers this selector and window, and its limit.
    public var existingBudgetID: String?
    public var existingLimit: Int64?

    enum CodingKeys: String, CodingKey {
        case selector, dimension, value, unit, period, windows, mean, p95, max, limit
        case budgetID = "budget_id"
        case existingBudgetID = "existing_budget_id"
        case existingLimit = "existing_limit"
    }
}

/// `GET /v1/budget-suggestions`: the proposals and how they were made.
public struct BudgetSuggestionReport: Codable, Sendable {
    public var by: String
    public var period: BudgetPeriod
    public var unit: BudgetUnit
    public var baselineDays: Int
    public var headroomPercent: Int
    /// The baseline's first minute and the end (exclusive), Unix seconds: complete windows only.
    public var from: Int64
    public var until: Int64
    public var suggestions: [BudgetSuggestion]

    enum CodingKeys: String, CodingKey {
        case by, period, unit
        case baselineDays = "baseline_days"
        case headroomPercent = "headroom_percent"
        case from, until, suggestions
    }
}
