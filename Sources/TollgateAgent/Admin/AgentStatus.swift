import Foundation
import TollgateCore

/// The agent's `/status` document: identity, how far usage shipping has got, and the
/// budgets it enforces (so a refusal can be explained from the host itself).
struct AgentStatus: Encodable {
    var agentID: String
    var shipper: ShipperStatus
    var quota: QuotaStatus
    /// Nil when the agent holds no quota book (no aggregator).
    var policies: PolicyStatus? = nil

    /// `ok`, or `degraded` with the reasons in `problems` (the spool refusing writes).
    var state: String { problems.isEmpty ? "ok" : "degraded" }
    var problems: [String] { shipper.spoolProblem.map { [$0] } ?? [] }

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id"
        case shipper, quota, state, problems, policies
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(agentID, forKey: .agentID)
        try container.encode(shipper, forKey: .shipper)
        try container.encode(quota, forKey: .quota)
        try container.encodeIfPresent(policies, forKey: .policies)
        try container.encode(state, forKey: .state)
        try container.encode(problems, forKey: .problems)
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? "{}\n"
    }
}

/// The quota channel's freshness and every budget as this agent last heard it.
struct QuotaStatus: Encodable {
    /// `never_subscribed` (no budget received since start: nothing enforced), `enforcing` or `stale`.
    var state: String
    var enforcement: String
    var onStale: String
    var version: UInt64
    /// Milliseconds since the last update; nil before the first.
    var lastUpdateAgoMs: Int64?
    var budgets: [BudgetStatus]

    enum CodingKeys: String, CodingKey {
        case state
        case enforcement
        case onStale = "on_stale"
        case version
        case lastUpdateAgoMs = "last_update_ago_ms"
        case budgets
    }

    init(book: QuotaBook, settings: QuotaGate.Settings) {
        // The same view the fleet report is built from: `/status` and `tollgate agents` agree.
        let view = book.view(staleAfter: settings.staleAfter)
        state = view.state.rawValue
        enforcement = settings.enforcement.rawValue
        onStale = settings.onStale.rawValue
        version = view.version
        lastUpdateAgoMs = view.age?.wholeMilliseconds
        budgets = book.statuses.sorted { $0.budgetID < $1.budgetID }
    }
}
