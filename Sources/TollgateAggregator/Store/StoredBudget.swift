import TollgateCore

/// A budget as the store keeps it: the definition and its exemptions (the audit trail).
public struct StoredBudget: Hashable, Sendable {
    public var budget: Budget
    /// Oldest first; includes expired ones.
    public var exemptions: [BudgetExemption]

    public init(budget: Budget, exemptions: [BudgetExemption]) {
        self.budget = budget
        self.exemptions = exemptions
    }
}

/// What one committed batch added to one budget's window.
public struct BudgetSpend: Hashable, Sendable {
    public var budgetID: String
    public var window: BudgetWindow
    /// Added by this batch.
    public var added: Int64
    /// The window's total after the batch.
    public var spent: Int64
}
