import TollgateCore
import TollgateWire

/// What every agent that has applied each broadcast so far holds: the budget statuses and
/// agents' watermarks as of the last version published. The publisher keeps it so a new
/// subscriber's snapshot is a copy of it, sent to that agent alone, at the current version
/// (no version spent, so no other agent sees a gap), and needs no store read: the snapshot
/// then followed by the next delta is exactly what every other agent applied.
///
/// It also turns a periodic full reading of the store into a delta of what differs, so the
/// refresh that catches window roll-overs and anything missed costs a message of a few
/// bytes in the steady state, not every budget and every agent's watermark to every agent.
struct QuotaMirror {
    private(set) var version: UInt64 = 0
    private(set) var statuses: [String: BudgetStatus] = [:]
    private(set) var watermarks: [String: UInt64] = [:]
    /// Key id → team/project, as agents hold them (`KeyLabel`s with only those fields).
    private(set) var keyLabels: [String: KeyLabel] = [:]
    /// Spend policies by id, as agents hold them.
    private(set) var policies: [String: Policy] = [:]
    /// False until the first full reading: before it there is nothing to snapshot.
    private(set) var isLoaded = false

    /// The broadcast carrying `delta`; every agent in step now holds the mirror.
    mutating func publish(_ delta: QuotaDeltaQueue.Delta, issuedAt: Int64) -> QuotaUpdateMessage {
        for status in delta.statuses { statuses[status.budgetID] = status }
        for id in delta.removed { statuses[id] = nil }
        for (agentID, seq) in delta.watermarks { watermarks[agentID] = max(watermarks[agentID] ?? 0, seq) }
        version += 1
        return QuotaUpdateMessage(version: version, isSnapshot: false, budgets: delta.statuses, removedBudgetIDs: delta.removed,
                                  issuedAtMilliseconds: issuedAt, watermarks: delta.watermarks)
    }

    /// The broadcast that brings agents to a full reading (every status and watermark read
    /// in one instant): a snapshot the first time, then a delta of what differs from what
    /// they hold, empty when nothing does (which still tells them the channel is alive).
    mutating func refresh(statuses read: [BudgetStatus], watermarks readMarks: [String: UInt64], issuedAt: Int64) -> QuotaUpdateMessage {
        guard isLoaded else {
            isLoaded = true
            statuses = Dictionary(read.map { ($0.budgetID, $0) }, uniquingKeysWith: { $1 })
            watermarks = readMarks
            return broadcastSnapshot(issuedAt: issuedAt)
        }
        let readIDs = Set(read.map(\.budgetID))
        let changed = read.filter { status in
            guard let held = statuses[status.budgetID] else { return true }
            return QuotaDeltaQueue.changesDecisions(from: held, to: status) || held.spent != status.spent
        }
        let removed = statuses.keys.filter { !readIDs.contains($0) }.sorted()
        let marks = readMarks.filter { watermarks[$0.key] != $0.value }
        return publish(.init(statuses: changed.sorted { $0.budgetID < $1.budgetID }, removed: removed, watermarks: marks), issuedAt: issuedAt)
    }

    /// Everything, to every subscriber, as a new version: for agents that subscribe to the
    /// whole channel (before topics), which cannot be answered alone.
    mutating func broadcastSnapshot(issuedAt: Int64) -> QuotaUpdateMessage {
        version += 1
        var message = QuotaUpdateMessage(version: version, isSnapshot: true, budgets: sortedStatuses, issuedAtMilliseconds: issuedAt, watermarks: watermarks,
                                         keyLabels: sortedKeyLabels)
        message.policies = sortedPolicies
        return message
    }

    /// One agent's snapshot at the current version. It names only that agent's watermark:
    /// the only one an agent reads, and a fleet's worth of others would make answering N
    /// subscriptions cost N² bytes.
    func snapshot(for agentID: String, issuedAt: Int64) -> QuotaUpdateMessage {
        var message = QuotaUpdateMessage(version: version, isSnapshot: true, budgets: sortedStatuses, issuedAtMilliseconds: issuedAt,
                                         watermarks: watermarks[agentID].map { [agentID: $0] } ?? [:], keyLabels: sortedKeyLabels)
        message.policies = sortedPolicies
        return message
    }

    /// The broadcast that brings agents' key labels to `labels`: what changed and what
    /// went; nil when they hold them already.
    mutating func publishKeyLabels(_ labels: [KeyLabel], issuedAt: Int64) -> QuotaUpdateMessage? {
        let wanted = Dictionary(labels.map { ($0.keyID, $0) }, uniquingKeysWith: { $1 })
        let changed = wanted.values.filter { keyLabels[$0.keyID] != $0 }.sorted { $0.keyID < $1.keyID }
        let removed = keyLabels.keys.filter { wanted[$0] == nil }.sorted()
        guard !changed.isEmpty || !removed.isEmpty else { return nil }
        keyLabels = wanted
        version += 1
        return QuotaUpdateMessage(version: version, isSnapshot: false, budgets: [], issuedAtMilliseconds: issuedAt,
                                  keyLabels: changed, removedKeyLabelIDs: removed)
    }

    /// The broadcast that brings agents' policies to `wanted`: the changed ones whole, the
    /// removed ones by id; nil when they hold them already.
    mutating func publishPolicies(_ wanted: [Policy], issuedAt: Int64) -> QuotaUpdateMessage? {
        let byID = Dictionary(wanted.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let changed = byID.values.filter { policies[$0.id] != $0 }.sorted { $0.id < $1.id }
        let removed = policies.keys.filter { byID[$0] == nil }.sorted()
        guard !changed.isEmpty || !removed.isEmpty else { return nil }
        policies = byID
        version += 1
        var message = QuotaUpdateMessage(version: version, isSnapshot: false, budgets: [], issuedAtMilliseconds: issuedAt)
        message.policies = changed
        message.removedPolicyIDs = removed
        return message
    }

    private var sortedPolicies: [Policy] { policies.values.sorted { $0.id < $1.id } }

    private var sortedKeyLabels: [KeyLabel] { keyLabels.values.sorted { $0.keyID < $1.keyID } }

    private var sortedStatuses: [BudgetStatus] { statuses.values.sorted { $0.budgetID < $1.budgetID } }
}
