import TollgateCore

/// The answer to `POST /v1/budgets/{id}/exemptions`: the exemption and the budget's status with it.
public struct ExemptionView: Codable, Sendable {
    public var exemption: BudgetExemption
    public var status: BudgetStatus

    public init(exemption: BudgetExemption, status: BudgetStatus) {
        self.exemption = exemption
        self.status = status
    }
}
