import TollgateCore

/// The answer of `GET /v1/report`, which `tollgate report` prints: a month's spend per value
/// of one dimension (team by default), against its budget and the month before. Money is
/// exact integer nanodollars; percentages are for reading and rounded to 0.01.
public struct ShowbackReport: Codable, Equatable, Sendable {
    public var month: String
    public var previousMonth: String
    /// The dimension rows are per (`team`, `project`, …).
    public var by: String
    /// `[from, until)`, RFC 3339 UTC.
    public var from: String
    public var until: String
    public var rows: [ShowbackRow]
    /// Every row summed; its budget is an org-wide one (selector `*`), if set.
    public var total: ShowbackRow

    enum CodingKeys: String, CodingKey {
        case month, by, from, until, rows, total
        case previousMonth = "previous_month"
    }
}

/// One value's month: what it spent, its part of the total, its budget, the change since
/// the month before, where the money went, and how much of it was estimated.
public struct ShowbackRow: Codable, Equatable, Sendable {
    /// The dimension's value; empty for usage that carried none.
    public var value: String
    public var requests: Int64
    public var spendNanousd: Int64
    public var sharePercent: Double
    public var budget: ShowbackBudget?
    public var previousSpendNanousd: Int64
    public var changeNanousd: Int64
    /// Nil when the month before spent nothing (no percentage of zero).
    public var changePercent: Double?
    public var topModels: [ShowbackShare]
    public var topUseCases: [ShowbackShare]
    /// The part of spend from requests whose usage was estimated (see `ShowbackBuilder`).
    public var estimatedNanousd: Int64
    public var estimatedPercent: Double

    public init(value: String) {
        self.value = value
        requests = 0
        spendNanousd = 0
        sharePercent = 0
        previousSpendNanousd = 0
        changeNanousd = 0
        topModels = []
        topUseCases = []
        estimatedNanousd = 0
        estimatedPercent = 0
    }

    enum CodingKeys: String, CodingKey {
        case value, requests, budget
        case spendNanousd = "spend_nanousd"
        case sharePercent = "share_percent"
        case previousSpendNanousd = "previous_spend_nanousd"
        case changeNanousd = "change_nanousd"
        case changePercent = "change_percent"
        case topModels = "top_models"
        case topUseCases = "top_use_cases"
        case estimatedNanousd = "estimated_nanousd"
        case estimatedPercent = "estimated_percent"
    }
}

/// A model's or a use case's spend within a row.
public struct ShowbackShare: Codable, Equatable, Sendable {
    public var name: String
    public var spendNanousd: Int64

    public init(name: String, spendNanousd: Int64) {
        self.name = name
        self.spendNanousd = spendNanousd
    }

    enum CodingKeys: String, CodingKey {
        case name
        case spendNanousd = "spend_nanousd"
    }
}

/// The USD budget whose selector is exactly this row's value, scaled to the month.
public struct ShowbackBudget: Codable, Equatable, Sendable {
    public var id: String
    public var period: BudgetPeriod
    /// The budget's own limit, per `period`.
    public var limitNanousd: Int64
    /// The limit over the month (see `ShowbackBudgets.monthly`).
    public var monthLimitNanousd: Int64
    /// Spend over the month's limit: positive when over budget.
    public var varianceNanousd: Int64
    public var usedPercent: Double

    enum CodingKeys: String, CodingKey {
        case id, period
        case limitNanousd = "limit_nanousd"
        case monthLimitNanousd = "month_limit_nanousd"
        case varianceNanousd = "variance_nanousd"
        case usedPercent = "used_percent"
    }
}
