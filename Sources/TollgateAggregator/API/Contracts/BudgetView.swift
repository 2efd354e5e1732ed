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

    public init(budget: Budget, status: BudgetStatus, exemptions: [BudgetExemption]? = nil, change: String? = nil) {
        self.budget = budget
        self.status = status
        self.exemptions = exemptions
        self.change = change
    }
}
