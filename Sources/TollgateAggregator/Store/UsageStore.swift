import Foundation
import NIOConcurrencyHelpers
import Synchronization
import TollgateCore
import TollgateWire

// `TollgateCore.UsageDimension` is spelled out below because Foundation also has a `UsageDimension` (units).

/// What committing one batch came to, and what it added to budgets.
public struct Committed: Equatable, Sendable {
    public var outcome: ApplyOutcome
    /// Empty unless `outcome` is `.applied`.
    public var budgetSpend: [BudgetSpend]
    /// `UsageStore.generation` right after this batch was written (0 unless applied): the
    /// quota channel orders what it publishes by it.
    public var generation: UInt64 = 0
}

/// What `UsageStore.apply` did with a batch; the ingest loop turns it into an ack or nack.
public enum ApplyOutcome: Equatable, Sendable {
    /// Committed (fsynced) together with the agent's new last seq: acknowledge it.
    case applied
    /// Already applied earlier (a resend after a lost ack): acknowledge without applying.
    case duplicate(lastSeq: UInt64)
    /// A batch before this one is missing: nothing applied; the agent must resend from `expected`.
    case gap(expected: UInt64)
    /// Refused for good (see `BatchRefusal`); nothing applied. `lastSeq` is the agent's last
    /// applied seq, `boundTo` the key name the agent id is bound to (for `.identity`).
    case refused(BatchRefusal, lastSeq: UInt64, boundTo: String?)
}

/// One row of a usage report: counters summed over every cell that projects onto `dimensions`.
public struct UsageGroup: Equatable, Sendable {
    public var dimensions: Dimensions
    public var counters: UsageCounters
    /// The first minute of the group's time bucket, in a query with `every`; nil otherwise.
    public var bucketStartMinute: Int64?

    public init(dimensions: Dimensions, counters: UsageCounters, bucketStartMinute: Int64? = nil) {
        self.dimensions = dimensions
        self.counters = counters
        self.bucketStartMinute = bucketStartMinute
    }
}

/// The aggregator's durable usage totals and budget spend, with exactly-once batch
/// application (DESIGN.md decision 3).
///
/// `@unchecked Sendable`: RocksDB is thread-safe, and the in-memory budget definitions are
/// guarded by locks. `writer` serialises every commit (`commit` on the ingest commit
/// thread; budget changes from the API, whose backfill must not interleave with a batch);
/// it is uncontended on the ingest path. Queries from other threads read consistent
/// snapshots and never see half a batch.
public final class UsageStore: @unchecked Sendable {
    let db: RocksDB
    let writer = NIOLock()
    /// Guards `stored` and `active`; held only for short copies and swaps.
    let definitions = NIOLock()
    /// Every budget by id, with its exemptions; `removedExemptions` keeps the audit trail
    /// of budgets that no longer exist.
    var stored: [String: StoredBudget] = [:]
    var removedExemptions: [String: [BudgetExemption]] = [:]
    /// The ingest loop's compiled view of `stored`; replaced (under both locks) on change,
    /// when `activeGeneration` goes up.
    var active: [ActiveBudget] = []
    var activeGeneration: UInt64 = 0
    /// Window rules by period and zone, shared between budgets; writer-only.
    var windowRules: [String: WindowRule] = [:]
    /// What RocksDB holds for each agent's last seq and each budget window's spend, so
    /// ingest never reads (a read that hits the vector memtable sorts a copy of it).
    /// Writer-only; updated only after a commit succeeded.
    var lastSeqs: [String: UInt64] = [:]
    /// Agent id → the key name bound to it, as RocksDB holds it ("" = none yet). Its own
    /// lock, so the socket thread can check a report's sender without waiting out a
    /// commit's fsync. Only the writer stores a name (right after writing it); readers
    /// cache what they read only where nothing is cached, so a read that raced a binding
    /// never hides it.
    let bindings = NIOLockedValueBox<[String: String]>([:])
    /// How far past its last applied seq an agent's batch may be numbered; further is
    /// refused (`BatchRefusal.seqTooFar`). Honest agents skip at most a few seqs per
    /// restart, or as many as they abandon from a full spool.
    public let maxSeqAdvance: UInt64
    public static let defaultMaxSeqAdvance: UInt64 = 1_000_000
    var spendCache: [SpendSlot: Int64] = [:]
    /// Each key's sighting as RocksDB holds it (`UsageStore+Keys`); writer-only.
    var seenKeys: [String: KeySighting] = [:]
    /// Set when a WAL sync failed: from then on every commit fails (writer-only).
    private var walFailure: StoreError?
    /// +1 per applied batch and per budget or exemption change, under `writer`: a status
    /// read at generation G includes every change up to G (the quota channel uses it to
    /// drop queued deltas a snapshot already covers).
    let generationCounter = Atomic<UInt64>(0)
    /// How far the hour and day rollups reach, and retention's horizons (`UsageStore+Rollups`).
    let rollup = NIOLockedValueBox(RollupState())
    /// The hours not complete yet, as committed batches add up (`RollupAccumulator`); writer-only.
    var accumulator = RollupAccumulator()
    /// Serialises building rollups and enforcing retention (one maintenance pass at a time).
    let builder = NIOLock()

    struct SpendSlot: Hashable {
        var budgetID: String
        var windowStart: Int64
    }

    /// Opens (creating if needed) the store in `directory`, and loads the budgets it holds.
    public init(directory: String, maxSeqAdvance: UInt64 = UsageStore.defaultMaxSeqAdvance) throws {
        self.maxSeqAdvance = maxSeqAdvance
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotCreateDirectory(path: directory, reason: (error as NSError).localizedDescription)
        }
        db = try RocksDB(path: directory)
        try loadBudgets()
        try loadAgentSeqs()
        try openRollups()
    }

    /// Closes the database (see `RocksDB.close`) once ingest and the API have stopped.
    public func close() {
        db.close()
    }

    /// Applies `batch` unless it was applied before or an earlier batch is missing.
    public func apply(_ batch: UsageBatchMessage) throws -> ApplyOutcome {
        var spend: [BudgetSpend] = []
        return try apply(batch, budgetSpend: &spend)
    }

    /// Applies `batch` unless it was applied before or an earlier batch is missing, and
    /// reports in `budgetSpend` what it added to each budget's window: the batch is encoded
    /// as an agent sends it, then goes through `prepare` and `commit` like received batches.
    public func apply(_ batch: UsageBatchMessage, budgetSpend: inout [BudgetSpend]) throws -> ApplyOutcome {
        try commit(prepare(RawUsageBatch(batch)), budgetSpend: &budgetSpend)
    }

    /// Reads a received batch's cells and encodes them for `commit`: every cell's counter
    /// merge, and its spend per budget. Takes no writer lock, so the ingest loop prepares
    /// the next batch while the previous one commits. Safe from any thread.
    ///
    /// With `spendSeries`, the same loop sums the batch per (provider, model, team) for
    /// `/metrics` (`PreparedBatch.spendSeries`): a second pass over the protobuf cost more.
    ///
    /// Throws `WireError.corruptPayload` for a malformed `UsageBatch`; nothing of it is kept.
    public func prepare(_ batch: RawUsageBatch, spendSeries: Bool = false) throws -> PreparedBatch {
        let (budgets, generation) = definitions.withLock { (active, activeGeneration) }
        let inline = rollup.withLockedValue { $0.inline }
        var encoder = CellEncoder(tally: BudgetSpendTally(budgets: budgets), inline: inline)
        if spendSeries { encoder.spendSeries = SpendSeriesTally() }
        defer { encoder.deallocate() }
        do {
            try batch.encoded.withUnsafeBytes { bytes in
                try UsageBatchReader.forEachCell(bytes) { encoder.add($0) }
            }
        } catch {
            throw WireError.corruptPayload("\(error)")
        }
        return PreparedBatch(batch: batch, cellCount: encoder.cellCount, writes: encoder.writes, tally: encoder.tally,
                             budgetsGeneration: generation, inline: inline, sightings: encoder.sightings,
                             spendSeries: encoder.spendSeries, hourGroups: encoder.hourGroups,
                             lateDayGroups: encoder.lateDayGroups)
    }

    /// Commits a prepared batch unless it was applied before or an earlier batch is
    /// missing, and reports in `budgetSpend` what it added to each budget's window.
    public func commit(_ prepared: PreparedBatch, budgetSpend: inout [BudgetSpend]) throws -> ApplyOutcome {
        let committed = try commit([prepared])[0].get()
        budgetSpend = committed.budgetSpend
        return committed.outcome
    }

    /// Commits prepared batches as a group, in order, each unless it was applied before or
    /// an earlier batch is missing; one result per batch.
    ///
    /// Each batch is one atomic WriteBatch (counters, budget spend and the agent's new last
    /// seq), so after a crash either all of it is on disk or none is: a resent batch is then
    /// either recognised as a duplicate or applied for the first time, never counted twice
    /// and never lost, in usage totals and in budgets alike. One WAL sync after the last
    /// write makes the whole group durable before anything is reported applied: the
    /// disk's sync latency is paid once per group, not once per batch.
    ///
    /// Batches of one agent must be committed in seq order; a prepared batch at most once.
    public func commit(_ group: [PreparedBatch]) -> [Result<Committed, Error>] {
        writer.lock()
        defer { writer.unlock() }
        if let walFailure { return group.map { _ in .failure(walFailure) } }
        let results = group.map { prepared in Result { try write(prepared) } }
        // Nothing new written (duplicates, gaps, failures): everything before is synced already.
        guard results.contains(where: { (try? $0.get().outcome) == .applied }) else { return results }
        do {
            try db.syncWAL()
            return results
        } catch {
            // What was written may or may not be on disk, and the caches already count it:
            // refuse everything until a restart recovers the truth from the disk.
            let failure = StoreError.walSyncFailed(message: "\(error)")
            walFailure = failure
            return group.map { _ in .failure(failure) }
        }
    }

    /// Writes one batch of a group, without syncing. Call with `writer` held.
    private func write(_ prepared: PreparedBatch) throws -> Committed {
        let batch = prepared.batch
        let last = try storedLastSeq(agentID: batch.agentID)
        // Identity first: a batch from another agent's key must not even learn that agent's seq.
        let bound = try storedBinding(agentID: batch.agentID)
        if let sender = batch.sender, let bound, bound != sender {
            return Committed(outcome: .refused(.identity, lastSeq: 0, boundTo: bound), budgetSpend: [])
        }
        // The aggregator applied a seq this agent never numbered: its state went back in
        // time, and its batches up to `last` would be dropped as duplicates.
        if batch.highSeq != 0, batch.highSeq < last {
            return Committed(outcome: .refused(.stateBehind, lastSeq: last, boundTo: bound), budgetSpend: [])
        }
        // `floorSeq` lets an agent that had to drop spooled batches (or lost its spool)
        // skip ahead instead of waiting forever for seqs it no longer has; but not so far
        // that its later batches, or another agent's, would all look like duplicates. An
        // agent never seen starts where it is (an aggregator whose data directory was
        // reset must not refuse a long-running fleet); its id is then its key's.
        if last > 0, batch.seq > last, batch.seq - last > maxSeqAdvance {
            return Committed(outcome: .refused(.seqTooFar, lastSeq: last, boundTo: bound), budgetSpend: [])
        }
        let expected = max(last + 1, batch.floorSeq)
        if batch.seq < expected { return Committed(outcome: .duplicate(lastSeq: last), budgetSpend: []) }
        if batch.seq > expected { return Committed(outcome: .gap(expected: expected), budgetSpend: []) }

        // Budgets changed since `prepare` (the writer lock keeps them fixed from here on):
        // count the spend again against the budgets as they are now.
        let budgets = active
        var tally = prepared.tally
        if prepared.budgetsGeneration != activeGeneration {
            var recounted = BudgetSpendTally(budgets: budgets)
            try batch.encoded.withUnsafeBytes { bytes in
                try UsageBatchReader.forEachCell(bytes) { recounted.add($0) }
            }
            tally = recounted
        }
        // Hours were completed or handed over since `prepare` (`rollUp`): this batch's
        // minutes of them must now be merged into their hour and day cells, or accumulated.
        let inline = rollup.withLockedValue { $0.inline }
        let (writes, hourGroups, lateDayGroups) = inline == prepared.inline
            ? (prepared.writes, prepared.hourGroups, prepared.lateDayGroups) : try Self.encodeCells(of: batch, inline: inline)
        var newSpend: [(SpendSlot, Int64)] = []
        var budgetSpend: [BudgetSpend] = []
        for entry in tally.entries {
            let slot = SpendSlot(budgetID: budgets[entry.budget].id, windowStart: entry.window.start)
            let after = try storedSpend(slot) &+ entry.amount
            writes.put(key: BudgetKeyCodec.spendKey(slot.budgetID, windowStart: slot.windowStart), value: BudgetKeyCodec.encodeAmount(after))
            newSpend.append((slot, after))
            budgetSpend.append(BudgetSpend(budgetID: slot.budgetID, window: entry.window, added: entry.amount, spent: after))
        }
        writes.put(key: CellKeyCodec.agentKey(batch.agentID), value: CellKeyCodec.encodeSeq(batch.seq))
        // First contact over CURVE binds the agent id to the sending key, with its first usage.
        let binds = bound == nil ? batch.sender : nil
        if let binds { writes.put(key: AgentBindingCodec.key(batch.agentID), value: AgentBindingCodec.encode(binds)) }
        let sighted = try recordSightings(prepared.sightings, in: writes)
        try db.write(writes, sync: false)
        if inline.accumulating { accumulator.add(hourGroups) }
        if lateDayGroups.count > 0 { accumulator.addLateDays(lateDayGroups) }
        for sighting in sighted { seenKeys[sighting.keyID] = sighting }
        lastSeqs[batch.agentID] = batch.seq
        if let binds { bindings.withLockedValue { $0[batch.agentID] = binds } }
        for (slot, after) in newSpend { spendCache[slot] = after }
        return Committed(outcome: .applied, budgetSpend: budgetSpend, generation: bumpGeneration())
    }

    /// The last batch seq applied for `agentID`; 0 for an agent never seen.
    public func lastSeq(agentID: String) throws -> UInt64 {
        try writer.withLock { try storedLastSeq(agentID: agentID) }
    }

    /// The key name `agentID` is bound to; nil while unbound (never seen over CURVE).
    /// Safe from any thread; takes no writer lock.
    public func binding(agentID: String) throws -> String? {
        try storedBinding(agentID: agentID)
    }

    private func storedBinding(agentID: String) throws -> String? {
        if let cached = bindings.withLockedValue({ $0[agentID] }) { return cached.isEmpty ? nil : cached }
        let name = try db.get(AgentBindingCodec.key(agentID)).map(AgentBindingCodec.decode)
        return bindings.withLockedValue { cache in
            if cache[agentID] == nil { cache[agentID] = name ?? "" }
            let cached = cache[agentID]!
            return cached.isEmpty ? nil : cached
        }
    }

    /// Call with `writer` held.
    private func storedLastSeq(agentID: String) throws -> UInt64 {
        if let cached = lastSeqs[agentID] { return cached }
        let key = CellKeyCodec.agentKey(agentID)
        let seq = try db.get(key).map { try CellKeyCodec.decodeSeq($0, key: key) } ?? 0
        lastSeqs[agentID] = seq
        return seq
    }

    /// A budget window's spend; 0 if nothing was counted. Call with `writer` held.
    /// The cache is bounded: minute windows add a slot per budget per minute.
    func storedSpend(_ slot: SpendSlot) throws -> Int64 {
        if let cached = spendCache[slot] { return cached }
        let key = BudgetKeyCodec.spendKey(slot.budgetID, windowStart: slot.windowStart)
        let spent = try db.get(key).map { try BudgetKeyCodec.decodeAmount($0, key: key) } ?? 0
        if spendCache.count > 65_536 { spendCache.removeAll(keepingCapacity: true) }
        spendCache[slot] = spent
        return spent
    }

    /// A batch's cell merges, hour groups and late day groups alone (its budget spend is
    /// counted separately), for `inline`.
    private static func encodeCells(of batch: RawUsageBatch, inline: InlineRollups) throws -> (WriteBatch, GroupTable, GroupTable) {
        var encoder = CellEncoder(tally: BudgetSpendTally(budgets: []), inline: inline)
        defer { encoder.deallocate() }
        try batch.encoded.withUnsafeBytes { bytes in
            try UsageBatchReader.forEachCell(bytes) { encoder.add($0) }
        }
        return (encoder.writes, encoder.hourGroups, encoder.lateDayGroups)
    }
}

/// A batch encoded by `UsageStore.prepare`, waiting for `commit`. A prepared batch whose
/// seq turns out to be a duplicate or beyond a gap is simply dropped.
public final class PreparedBatch: @unchecked Sendable {
    public let batch: RawUsageBatch
    public let cellCount: Int
    /// Counter merges only; `commit` adds budget spend and the agent's seq. Touched by one
    /// thread at a time: the preparing one, then the committing one.
    let writes: WriteBatch
    let tally: BudgetSpendTally
    /// `UsageStore.activeGeneration` the tally was counted against.
    let budgetsGeneration: UInt64
    /// The rollup thresholds the merges were encoded with.
    let inline: InlineRollups
    /// The batch's cells summed per (hour, dimensions) for the accumulator, when `inline`
    /// says it is fed.
    let hourGroups: GroupTable
    /// Late minutes of the open day, per (day, dimensions), for the accumulator's day sums.
    let lateDayGroups: GroupTable
    /// The keys the batch carries, for `UsageStore+Keys`.
    let sightings: KeySightings
    /// The batch's sums for `/metrics`, when `prepare` was asked for them; added to
    /// `SpendSeries` once the batch is applied.
    public let spendSeries: SpendSeriesTally?

    init(batch: RawUsageBatch, cellCount: Int, writes: WriteBatch, tally: BudgetSpendTally, budgetsGeneration: UInt64,
         inline: InlineRollups = InlineRollups(), sightings: KeySightings = KeySightings(), spendSeries: SpendSeriesTally? = nil,
         hourGroups: GroupTable = GroupTable(), lateDayGroups: GroupTable = GroupTable()) {
        self.hourGroups = hourGroups
        self.lateDayGroups = lateDayGroups
        self.sightings = sightings
        self.spendSeries = spendSeries
        self.batch = batch
        self.cellCount = cellCount
        self.writes = writes
        self.tally = tally
        self.budgetsGeneration = budgetsGeneration
        self.inline = inline
    }
}
