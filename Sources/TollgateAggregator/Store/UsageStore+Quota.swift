import Foundation
import TollgateCore

/// Every budget's spend and every agent's last applied batch, read in one instant, with
/// the store's generation at that instant: what a quota snapshot says.
public struct QuotaReading: Sendable {
    public var spend: [(budget: StoredBudget, window: BudgetWindow, spent: Int64)]
    /// Agent id → the last batch seq whose counters are in `spend`.
    public var watermarks: [String: UInt64]
    public var generation: UInt64
}

/// What the quota channel needs from the store: readings in which spend and agents'
/// watermarks agree exactly (DESIGN.md, "Exact local spend").
extension UsageStore {
    /// The generation now: every change up to it is visible to reads that follow.
    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Call with `writer` held, after a change is written.
    func bumpGeneration() -> UInt64 {
        generationCounter.add(1, ordering: .releasing).newValue
    }

    /// Reads every budget's spend in the window `window` gives for it, and every agent's
    /// last seq, holding the writer lock so no batch commits between the two reads.
    public func quotaReading(window: (Budget) -> BudgetWindow) throws -> QuotaReading {
        writer.lock()
        defer { writer.unlock() }
        let spend = try budgets().map { stored in
            let window = window(stored.budget)
            return (stored, window, try storedSpend(SpendSlot(budgetID: stored.budget.id, windowStart: window.start)))
        }
        return QuotaReading(spend: spend, watermarks: lastSeqs, generation: generation)
    }

    /// Loads every agent's last seq at open, so a snapshot names every agent the store
    /// knows, also after a restart (an agent not named would keep counting its batches).
    func loadAgentSeqs() throws {
        let prefix = CellKeyCodec.agentPrefix
        try db.scan(from: [prefix], to: [prefix + 1]) { key, value in
            let agentID = String(decoding: key.dropFirst(), as: UTF8.self)
            lastSeqs[agentID] = try CellKeyCodec.decodeSeq(value, key: key)
        }
    }
}
