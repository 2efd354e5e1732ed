extension BudgetStatus {
    /// Rebuilds a status an agent received from the aggregator, which sent every field;
    /// only the display percentage is derived again.
    public static func received(budgetID: String, selector: BudgetSelector, unit: BudgetUnit, period: BudgetPeriod,
                                action: BudgetAction, owner: String, limit: Int64, effectiveLimit: Int64, blockAt: Int64?,
                                spent: Int64, windowStart: Int64, windowEnd: Int64, state: BudgetState, asOf: Int64,
                                mode: BudgetMode = .enforce) -> BudgetStatus {
        let percent = effectiveLimit > 0 ? (Double(spent) * 10_000 / Double(effectiveLimit)).rounded() / 100 : (spent > 0 ? 100 : 0)
        return BudgetStatus(budgetID: budgetID, selector: selector, unit: unit, period: period, action: action, owner: owner,
                            limit: limit, effectiveLimit: effectiveLimit, blockAt: blockAt, spent: spent,
                            windowStart: windowStart, windowEnd: windowEnd, state: state, percentUsed: percent, asOf: asOf, mode: mode)
    }
}
