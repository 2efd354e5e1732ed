/// Whether agents enforce a budget or only watch it: a new cap can run in `observe` first,
/// so its owner sees what it would refuse before it refuses anything.
public enum BudgetMode: String, CaseIterable, Sendable, Codable {
    case enforce
    /// Never blocks; agents count each request it would have refused
    /// (`tollgate_agent_quota_would_block_total{budget}`).
    case observe
}
