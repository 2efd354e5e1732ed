import TollgateCore

/// One budget and its status: the body of `GET /v1/budgets[/id]` and `PUT /v1/budgets/{id}`,
/// written by the aggregator and read by the `tollgate` CLI.
public struct BudgetView: Codable, Sendable {
    public var budget: Budget
    public var status: BudgetStatus
    /// Only on `GET /v1/budgets/{id}`.
    public var exemptions: [BudgetExemption]?
    /// Only on `PUT`: created, updated, unchanged.
    public var change: String?
    /// Requests the budget would have refused in its current window, summed over the
    /// fleet's agents (observe mode: the budget's own, or an agent's `quota.enforcement`);
    /// nil when this aggregator serves no fleet.
    public var wouldBlock: Int64?

    public init(budget: Budget, status: BudgetStatus, exemptions: [BudgetExemption]? = nil, change: String? = nil,
                wouldBlock: Int64? = nil) {
        self.budget = budget
        self.status = status
        self.exemptions = exemptions
        self.change = change
        self.wouldBlock = wouldBlock
    }

    enum CodingKeys: String, CodingKey {
        case budget, status, exemptions, change
        case wouldBlock = "would_block"
    }
}
