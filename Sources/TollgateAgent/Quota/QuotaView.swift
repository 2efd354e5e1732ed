import TollgateCore
import TollgateWire

/// The quota state as the agent reports it, read from the book in one go: the fleet report,
/// `/status` and the `tollgate_agent_quota_state` gauge all take their state from
/// `QuotaChannelHealth.state(silence:staleAfter:)` through this value, so the aggregator's
/// view of an agent and the agent's own `/status` cannot disagree.
struct QuotaView: Sendable, Equatable {
    var version: UInt64
    /// Since the last update applied; nil before the first.
    var age: Duration?
    var state: QuotaChannelHealth.State
    /// What budgets would have refused here, per budget, in each one's current window.
    var wouldBlock: [BudgetWouldBlock] = []
    /// When the book started counting (the agent process's start); 0 when there is no book.
    var countingSinceUnixMs: Int64 = 0
    /// Per spend policy, what it did here since the start; and the policies not applied.
    var policyHits: [PolicyHitCounts] = []
    var rejectedPolicies: [PolicyRejection] = []

    /// Before the book exists: nothing received.
    static let none = QuotaView(version: 0, age: nil, state: .neverSubscribed)

    /// A view with `age` judged against `staleAfter` by the one rule.
    init(version: UInt64, age: Duration?, staleAfter: Duration, wouldBlock: [BudgetWouldBlock] = [], countingSinceUnixMs: Int64 = 0) {
        self.init(version: version, age: age, state: QuotaChannelHealth.state(silence: age, staleAfter: staleAfter),
                  wouldBlock: wouldBlock, countingSinceUnixMs: countingSinceUnixMs)
    }

    init(version: UInt64, age: Duration?, state: QuotaChannelHealth.State, wouldBlock: [BudgetWouldBlock] = [],
         countingSinceUnixMs: Int64 = 0) {
        self.version = version
        self.age = age
        self.state = state
        self.wouldBlock = wouldBlock
        self.countingSinceUnixMs = countingSinceUnixMs
    }
}
