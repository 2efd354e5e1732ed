import TollgateWire

/// What each budget would have refused on this agent since it started, in the budget's
/// current window: the figure the agent's reports carry, so `tollgate budget list` can sum
/// it over the fleet for a budget in observe mode.
///
/// One window per budget: a request counted in a later window starts that budget again
/// from 1, and the aggregator only shows the current window anyway. Budgets the aggregator
/// no longer pushes are dropped (`keep(only:)`), so the table is bounded by the budgets.
struct WouldBlockCounts: Equatable, Sendable {
    private var byBudget: [String: BudgetWouldBlock] = [:]

    /// One request the budget would have refused, in the window starting at `windowStart`.
    mutating func count(budgetID: String, windowStart: Int64) {
        guard let existing = byBudget[budgetID], existing.windowStart >= windowStart else {
            byBudget[budgetID] = BudgetWouldBlock(budgetID: budgetID, windowStart: windowStart, requests: 1)
            return
        }
        // A decision made on a status of the window before (a race with an update): that
        // window is over, and its count is no longer shown.
        guard existing.windowStart == windowStart else { return }
        byBudget[budgetID]?.requests += 1
    }

    /// Forgets budgets that no longer exist.
    mutating func keep(only budgetIDs: Set<String>) {
        byBudget = byBudget.filter { budgetIDs.contains($0.key) }
    }

    /// What a report carries: the `limit` largest counts, by budget id.
    func entries(limit: Int = AgentReportCodec.maxWouldBlock) -> [BudgetWouldBlock] {
        let kept = byBudget.count <= limit ? Array(byBudget.values) : Array(byBudget.values.sorted { $0.requests > $1.requests }.prefix(limit))
        return kept.sorted { $0.budgetID < $1.budgetID }
    }

    func requests(budgetID: String) -> Int64 { byBudget[budgetID]?.requests ?? 0 }
}
