import TollgateCore

/// Budget changes waiting to go out on the quota channel, merged into one delta per
/// window: with thousands of subscribers every message costs thousands of CurveZMQ
/// encryptions and decodes, so a delta per commit group is what a large fleet can't afford.
///
/// A change that alters what agents decide (a budget that starts or stops blocking, a new
/// limit or window, a new or removed budget) makes the queue **urgent**: it goes out on
/// the publisher's next turn, carrying everything merged so far. Only spend moving within
/// the same state waits for the window. So cap → blocked costs no window, while the
/// steady flow of spend shrinks to one message per window.
///
/// Spend that moves only budgets **far from their line** (`add`'s `isNear` false for every
/// status waiting) waits longer, `farWindow`: no agent decides differently by it, and near
/// the line the budget is either close enough to wait only `window` or leased (slices, not
/// pushed spend). Urgency is not affected: a switch to leased or a block goes out at once
/// whatever the cadence (docs/ARCHITECTURE.md, "Spend far from the line").
///
/// Merge rules keep every message exact about agents' own spend: the latest status per
/// budget, the latest watermark per agent (each status queued after batch S of agent A
/// includes S and everything committed before it). Entries are tagged with the store's
/// generation; those a full reading already covered are dropped (`cover`), or a status
/// read before that reading but sent after it would take back spend the reading's
/// watermarks had already released on the agents.
struct QuotaDeltaQueue {
    /// What one delta carries, in a stable order.
    struct Delta: Equatable {
        var statuses: [BudgetStatus]
        var removed: [String]
        var watermarks: [String: UInt64]
    }

    private var statuses: [String: (status: BudgetStatus, generation: UInt64, near: Bool)] = [:]
    private var removals: [String: UInt64] = [:]
    private var watermarks: [String: (seq: UInt64, generation: UInt64)] = [:]
    /// When the oldest entry waiting was queued; nil when nothing waits.
    private(set) var oldest: ServiceClock.Instant?
    /// Something waiting changes what agents decide: send it now.
    private(set) var isUrgent = false {
        didSet { if isUrgent != oldValue { urgentSince = isUrgent ? lastAdd : nil } }
    }
    /// When the queue became urgent (for `tollgate_quota_urgent_publish_seconds`).
    private(set) var urgentSince: ServiceClock.Instant?
    private var lastAdd: ServiceClock.Instant?
    /// The generation of the last full reading published: older entries are in it.
    private(set) var coveredGeneration: UInt64 = 0

    var isEmpty: Bool { statuses.isEmpty && removals.isEmpty && watermarks.isEmpty }

    /// Some status waiting is for a budget near its line: the queue goes out after `window`,
    /// not `farWindow`. Watermarks alone never are: the spend they release on agents is
    /// matched against budgets, and those are in `statuses`.
    var hasNear: Bool { statuses.values.contains { $0.near } }

    /// Merges `update`. `held` is a budget's status as agents hold it (nil: they have none);
    /// `isNear` says whether a spend-only change to it must go out at the normal window (the
    /// default, everything is near). True when this made the queue urgent.
    mutating func add(_ update: BudgetUpdate, at now: ServiceClock.Instant, held: (String) -> BudgetStatus?,
                      isNear: (BudgetStatus) -> Bool = { _ in true }) -> Bool {
        let generation = update.generation
        lastAdd = now
        // Already in the last full reading (or something newer is).
        guard generation == 0 || generation > coveredGeneration else { return false }
        let wasUrgent = isUrgent
        for status in update.statuses where (statuses[status.budgetID]?.generation ?? 0) <= generation {
            let before = statuses[status.budgetID]?.status ?? (removals[status.budgetID] == nil ? held(status.budgetID) : nil)
            if Self.changesDecisions(from: before, to: status) { isUrgent = true }
            // Once near within this window, it stays near until sent.
            let near = (statuses[status.budgetID]?.near ?? false) || isNear(status)
            statuses[status.budgetID] = (status, generation, near)
            removals[status.budgetID] = nil
        }
        for id in update.removedBudgetIDs {
            statuses[id] = nil
            removals[id] = generation
            isUrgent = true
        }
        for (agentID, seq) in update.watermarks where (watermarks[agentID]?.seq ?? 0) < seq {
            watermarks[agentID] = (seq, generation)
        }
        if oldest == nil && !isEmpty { oldest = now }
        return isUrgent && !wasUrgent
    }

    /// Whether the queue should go out now: urgent, or its oldest entry has waited `window`
    /// (`farWindow` when every budget waiting is far from its line).
    func isDue(at now: ServiceClock.Instant, window: Duration, farWindow: Duration = .zero) -> Bool {
        guard let deadline = deadline(window: window, farWindow: farWindow) else { return false }
        return now >= deadline
    }

    /// When the queue falls due; nil when nothing waits.
    func deadline(window: Duration, farWindow: Duration = .zero) -> ServiceClock.Instant? {
        guard let oldest else { return nil }
        if isUrgent { return oldest }
        return oldest.advanced(by: hasNear ? window : max(window, farWindow))
    }

    /// Everything waiting, merged; the queue is empty afterwards.
    mutating func take() -> Delta {
        defer {
            statuses = [:]
            removals = [:]
            watermarks = [:]
            oldest = nil
            isUrgent = false
        }
        return Delta(statuses: statuses.values.map(\.status).sorted { $0.budgetID < $1.budgetID }, removed: removals.keys.sorted(),
                     watermarks: watermarks.mapValues(\.seq))
    }

    /// A full reading at `generation` went out: drops what it includes, and refuses it later.
    mutating func cover(through generation: UInt64) {
        coveredGeneration = max(coveredGeneration, generation)
        statuses = statuses.filter { $0.value.generation > coveredGeneration }
        removals = removals.filter { $0.value > coveredGeneration }
        watermarks = watermarks.filter { $0.value.generation > coveredGeneration }
        if isEmpty {
            oldest = nil
            isUrgent = false
        }
    }

    /// False only when the new status differs from the held one in spend alone (and the
    /// time it was computed, and the published overshoot bound): the same state, limits,
    /// window and selector. The bound moves with the burn rate on every commit while leases
    /// are off, and agents decide nothing by it: urgent on it, every commit group went to
    /// every agent at once.
    static func changesDecisions(from held: BudgetStatus?, to status: BudgetStatus) -> Bool {
        guard var held else { return true }
        held.spent = status.spent
        held.percentUsed = status.percentUsed
        held.asOf = status.asOf
        held.overshootBound = status.overshootBound
        return held != status
    }
}
