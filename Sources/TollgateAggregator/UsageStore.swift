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

/// The aggregator's durable usage totals, with exactly-once batch application
/// (DESIGN.md decision 3).
///
/// `@unchecked Sendable`: the only state is the RocksDB handle, which is thread-safe.
/// Writes come only from `apply`, which the ingest thread alone calls; queries from other
/// threads read consistent snapshots and never see half a batch.
public final class UsageStore: @unchecked Sendable {
    private let db: RocksDB

    /// Opens (creating if needed) the store in `directory`.
    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotCreateDirectory(path: directory, reason: (error as NSError).localizedDescription)
        }
        db = try RocksDB(path: directory)
    }

    /// Applies `batch` unless it was applied before or an earlier batch is missing.
    ///
    /// Counters and the agent's new last seq go in one synced WriteBatch, so after a crash
    /// either both are on disk or neither is: a resent batch is then either recognised as a
    /// duplicate or applied for the first time, never counted twice and never lost.
    ///
    /// Must only be called from one thread (the ingest thread): the read-modify-write of
    /// cell values below relies on no other writer running in between.
    public func apply(_ batch: UsageBatchMessage) throws -> ApplyOutcome {
        let last = try lastSeq(agentID: batch.agentID)
        // `floorSeq` lets an agent that had to drop spooled batches (or lost its spool)
        // skip ahead instead of waiting forever for seqs it no longer has.
        let expected = max(last + 1, batch.floorSeq)
        if batch.seq < expected { return .duplicate(lastSeq: last) }
        if batch.seq > expected { return .gap(expected: expected) }

        var merged: [CellKey: UsageCounters] = [:]
        for cell in batch.cells {
            merged[cell.key, default: UsageCounters()].add(cell.counters)
        }
        let writes = WriteBatch()
        for (cellKey, counters) in merged {
            let key = CellKeyCodec.encode(cellKey)
            var total = counters
            if let existing = try db.get(key) {
                total.add(try CountersCodec.decode(existing, key: key))
            }
            writes.put(key: key, value: CountersCodec.encode(total))
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
