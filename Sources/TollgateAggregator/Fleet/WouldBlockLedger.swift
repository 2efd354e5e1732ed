import TollgateWire

/// One agent's part of a budget's fleet-wide "would have refused" figure (observe mode).
///
/// Why agent reports, not usage cells: what a budget would have refused is decided on the
/// agent, per budget (a request may break one observe budget and not another), while a
/// cell is keyed by dimensions and cannot say which budget a request broke. Each agent
/// therefore counts per budget and window and sends its counts in every report
/// (`AgentReport.would_block`); the aggregator sums the latest of each agent.
///
/// Counts restart from 0 with the agent process (`started_unix_ms` changes). So that a
/// restart does not silently lower the fleet's figure, the last counts of the earlier
/// process are carried here, per budget, for their window, and stored with the agent's
/// record (written at once when the process changes). What is lost: the requests an agent
/// counted after its last report before it died, at most one report interval's worth.
struct WouldBlockLedger: Codable, Equatable, Sendable {
    /// The agent process the current counts come from (its start, Unix ms; 0: unknown).
    var process: Int64 = 0
    /// The latest report's counts, by budget.
    var current: [String: BudgetWouldBlock] = [:]
    /// Earlier processes' counts, by budget: the latest window seen for each.
    var carried: [String: BudgetWouldBlock] = [:]

    /// Takes a report's counts in; true when they come from a new process.
    @discardableResult
    mutating func receive(_ counts: [BudgetWouldBlock], process: Int64) -> Bool {
        let restarted = process != self.process && !current.isEmpty
        if restarted {
            for count in current.values { carry(count) }
        }
        self.process = process
        current = Dictionary(counts.map { ($0.budgetID, $0) }, uniquingKeysWith: { first, _ in first })
        return restarted
    }

    /// What this agent's processes would have refused for `budgetID` in the window starting at `windowStart`.
    func requests(budgetID: String, windowStart: Int64) -> Int64 {
        var total: Int64 = 0
        if let count = current[budgetID], count.windowStart == windowStart { total &+= count.requests }
        if let count = carried[budgetID], count.windowStart == windowStart { total &+= count.requests }
        return total
    }

    /// Adds `requests(budgetID:windowStart:)` of every budget in `windowStarts` to `totals`,
    /// visiting only the budgets this agent counted (a fleet of thousands, hundreds of budgets).
    func add(into totals: inout [String: Int64], windowStarts: [String: Int64]) {
        for count in current.values where windowStarts[count.budgetID] == count.windowStart && count.requests > 0 {
            totals[count.budgetID, default: 0] &+= count.requests
        }
        for count in carried.values where windowStarts[count.budgetID] == count.windowStart && count.requests > 0 {
            totals[count.budgetID, default: 0] &+= count.requests
        }
    }

    /// Carried budgets kept per agent; beyond it the oldest windows go (removed budgets).
    static let maxCarried = 2 * AgentReportCodec.maxWouldBlock

    /// Folds an ended process's count in: added within the same window, replacing an older one.
    private mutating func carry(_ count: BudgetWouldBlock) {
        guard let existing = carried[count.budgetID], existing.windowStart >= count.windowStart else {
            carried[count.budgetID] = count
            if carried.count > Self.maxCarried, let oldest = carried.values.min(by: { $0.windowStart < $1.windowStart }) {
                carried[oldest.budgetID] = nil
            }
            return
        }
        if existing.windowStart == count.windowStart { carried[count.budgetID]?.requests &+= count.requests }
    }
}
