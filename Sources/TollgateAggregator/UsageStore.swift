import Foundation
import TollgateCore
import TollgateWire

// `TollgateCore.UsageDimension` is spelled out below because Foundation also has a `UsageDimension` (units).

/// What `UsageStore.apply` did with a batch; the ingest loop turns it into an ack or nack.
public enum ApplyOutcome: Equatable, Sendable {
    /// Committed (fsynced) together with the agent's new last seq: acknowledge it.
    case applied
    /// Already applied earlier (a resend after a lost ack): acknowledge without applying.
    case duplicate(lastSeq: UInt64)
    /// A batch before this one is missing: nothing applied; the agent must resend from `expected`.
    case gap(expected: UInt64)
}

/// One row of a usage report: counters summed over every cell that projects onto `dimensions`.
public struct UsageGroup: Equatable, Sendable {
    public var dimensions: Dimensions
    public var counters: UsageCounters

    public init(dimensions: Dimensions, counters: UsageCounters) {
        self.dimensions = dimensions
        self.counters = counters
    }
}

/// The aggregator's durable usage totals and budget spend, with exactly-once batch
/// application (DESIGN.md decision 3).
///
/// `@unchecked Sendable`: RocksDB is thread-safe, and the in-memory budget definitions are
/// guarded by locks. `writer` serialises everything that read-modify-writes counters
/// (`apply` on the ingest thread; budget changes from the API, whose backfill must not
/// interleave with a batch); it is uncontended on the ingest path. Queries from other
/// threads read consistent snapshots and never see half a batch.
public final class UsageStore: @unchecked Sendable {
    let db: RocksDB
    let writer = NSLock()
    /// Guards `stored` and `active`; held only for short copies and swaps.
    let definitions = NSLock()
    /// Every budget by id, with its exemptions; `removedExemptions` keeps the audit trail
    /// of budgets that no longer exist.
    var stored: [String: StoredBudget] = [:]
    var removedExemptions: [String: [BudgetExemption]] = [:]
    /// The ingest loop's compiled view of `stored`; replaced (under both locks) on change.
    var active: [ActiveBudget] = []
    /// Window rules by period and zone, shared between budgets; writer-only.
    var windowRules: [String: WindowRule] = [:]

    /// Opens (creating if needed) the store in `directory`, and loads the budgets it holds.
    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotCreateDirectory(path: directory, reason: (error as NSError).localizedDescription)
        }
        db = try RocksDB(path: directory)
        try loadBudgets()
    }

    /// Applies `batch` unless it was applied before or an earlier batch is missing.
    public func apply(_ batch: UsageBatchMessage) throws -> ApplyOutcome {
        var spend: [BudgetSpend] = []
        return try apply(batch, budgetSpend: &spend)
    }

    /// Applies `batch` unless it was applied before or an earlier batch is missing, and
    /// reports in `budgetSpend` what it added to each budget's window.
    ///
    /// Counters, budget spend and the agent's new last seq go in one synced WriteBatch, so
    /// after a crash either all are on disk or none is: a resent batch is then either
    /// recognised as a duplicate or applied for the first time, never counted twice and
    /// never lost — in usage totals and in budgets alike.
    ///
    /// Must only be called from one thread (the ingest thread).
    public func apply(_ batch: UsageBatchMessage, budgetSpend: inout [BudgetSpend]) throws -> ApplyOutcome {
        writer.lock()
        defer { writer.unlock() }
        budgetSpend.removeAll(keepingCapacity: true)
        let last = try lastSeq(agentID: batch.agentID)
        // `floorSeq` lets an agent that had to drop spooled batches (or lost its spool)
        // skip ahead instead of waiting forever for seqs it no longer has.
        let expected = max(last + 1, batch.floorSeq)
        if batch.seq < expected { return .duplicate(lastSeq: last) }
        if batch.seq > expected { return .gap(expected: expected) }

        var merged: [CellKey: UsageCounters] = [:]
        merged.reserveCapacity(batch.cells.count)
        for cell in batch.cells {
            merged[cell.key, default: UsageCounters()].add(cell.counters)
        }
        let budgets = active
        var tally = BudgetSpendTally()
        let writes = WriteBatch()
        for (cellKey, counters) in merged {
            let key = CellKeyCodec.encode(cellKey)
            var total = counters
            if let existing = try db.get(key) {
                total.add(try CountersCodec.decode(existing, key: key))
            }
            writes.put(key: key, value: CountersCodec.encode(total))
            if !budgets.isEmpty {
                tally.add(counters, minute: cellKey.minute, dimensions: cellKey.dimensions, budgets: budgets)
            }
        }
        for entry in tally.entries {
            let id = budgets[entry.budget].id
            let key = BudgetKeyCodec.spendKey(id, windowStart: entry.window.start)
            let before = try db.get(key).map { try BudgetKeyCodec.decodeAmount($0, key: key) } ?? 0
            let after = before &+ entry.amount
            writes.put(key: key, value: BudgetKeyCodec.encodeAmount(after))
            budgetSpend.append(BudgetSpend(budgetID: id, window: entry.window, added: entry.amount, spent: after))
        }
        writes.put(key: CellKeyCodec.agentKey(batch.agentID), value: CellKeyCodec.encodeSeq(batch.seq))
        try db.write(writes, sync: true)
        return .applied
    }

    /// The last batch seq applied for `agentID`; 0 for an agent never seen.
    public func lastSeq(agentID: String) throws -> UInt64 {
        let key = CellKeyCodec.agentKey(agentID)
        guard let value = try db.get(key) else { return 0 }
        return try CellKeyCodec.decodeSeq(value, key: key)
    }

    /// Totals for minutes in [`fromMinute`, `toMinute`), one group per distinct value of the
    /// `groupBy` dimensions; ordered by cost, highest first, then by dimension values.
    public func query(fromMinute: Int64, toMinute: Int64, groupBy: [TollgateCore.UsageDimension]) throws -> [UsageGroup] {
        guard fromMinute < toMinute else { return [] }
        var groups: [Dimensions: UsageCounters] = [:]
        try db.scan(from: CellKeyCodec.minutePrefix(fromMinute), to: CellKeyCodec.minutePrefix(toMinute)) { key, value in
            let cellKey = try CellKeyCodec.decode(key)
            let counters = try CountersCodec.decode(value, key: key)
            groups[cellKey.dimensions.projected(onto: groupBy), default: UsageCounters()].add(counters)
        }
        return groups
            .map { UsageGroup(dimensions: $0.key, counters: $0.value) }
            .sorted { a, b in
                if a.counters.cost != b.counters.cost { return a.counters.cost > b.counters.cost }
                return a.dimensions.storedFields.lexicographicallyPrecedes(b.dimensions.storedFields)
            }
    }
}
