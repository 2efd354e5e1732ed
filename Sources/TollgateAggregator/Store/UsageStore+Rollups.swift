import TollgateCore

/// What one `UsageStore.rollUp` call did.
public struct RollupProgress: Equatable, Sendable {
    /// Hours completed with any cells.
    public var hoursBuilt = 0
    public var hourCellsWritten = 0
    public var dayCellsWritten = 0
    /// Hour cells hold every minute before `hoursCompleteBefore`, day cells every whole day
    /// before `daysCompleteBefore` (minutes since the epoch; nil before the first build).
    public var hoursCompleteBefore: Int64?
    public var daysCompleteBefore: Int64?
    /// (hour, dimensions) groups summed in memory, waiting for their hour to complete.
    public var accumulatedGroups = 0
}

/// Rollups could not be built; queries stay exact (they read minute cells past the last
/// complete hour), but stay slow until the aggregator restarts.
public struct RollupError: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var description: String {
        "building hour and day rollups failed (\(reason)); queries still give exact totals from the minute cells, "
            + "and restarting the aggregator resumes the rollups where they were"
    }
}

/// Where the rollups' progress and retention's horizons are kept: `"r"` + a name → the
/// minute (Int64, little-endian).
enum RollupKeys {
    static let prefix = UInt8(ascii: "r")
    static let hoursComplete = key("hours-complete")
    static let daysComplete = key("days-complete")
    static let minutesKeptFrom = key("minutes-kept-from")
    static let hoursKeptFrom = key("hours-kept-from")
    static let daysKeptFrom = key("days-kept-from")

    static func key(_ name: String) -> [UInt8] { [prefix] + Array(name.utf8) }
    static func encode(_ minute: Int64) -> [UInt8] { CellKeyCodec.encodeSeq(UInt64(bitPattern: minute)) }
    static func decode(_ bytes: [UInt8], key: [UInt8]) throws -> Int64 { Int64(bitPattern: try CellKeyCodec.decodeSeq(bytes, key: key)) }
}

extension UsageStore {
    /// An hour is completed this many minutes after it ends: agents ship within seconds, and
    /// a minute arriving later still counts (ingest merges it into the completed hour).
    public static let rollupSettleMinutes: Int64 = 5

    /// Loads the rollups' progress: hour cells hold every minute before `hours-complete`
    /// and nothing past it (hours are written only by `complete`, in the batch that records
    /// them); day cells hold every whole day before `days-complete` (the day that holds
    /// `hours-complete`) and nothing from it on (a day cell is written, as a value, when its
    /// day completes). The open day's sums, lost with the accumulator, are read back from
    /// its hour cells (which hold its late minutes too) into the new accumulator.
    ///
    /// Day cells from the open day on are dropped first: a data directory from before day
    /// cells were values merged the open day's hours into them as they completed. One that
    /// lacks `days-complete` has its day cells rebuilt from the hour cells.
    func openRollups() throws {
        var state = RollupState()
        func read(_ key: [UInt8]) throws -> Int64? { try db.get(key).map { try RollupKeys.decode($0, key: key) } }
        if let hours = try read(RollupKeys.hoursComplete) {
            let openDay = CellGranularity.day.start(ofMinute: hours)
            let from = min(try read(RollupKeys.daysComplete) ?? .min, openDay)
            let batch = WriteBatch()
            // Never written past the progress; a range tombstone makes sure (cheap, no read).
            batch.deleteRange(from: CellGranularity.hour.prefix(at: hours), to: CellGranularity.hour.end)
            batch.deleteRange(from: CellGranularity.day.prefix(at: from), to: CellGranularity.day.end)
            var table = GroupTable()
            var scratch = [UInt8](repeating: 0, count: 1_024)
            try db.snapshot().scan(from: CellGranularity.hour.prefix(at: from), to: CellGranularity.hour.prefix(at: hours)) { key, value in
                guard key.count >= 9, CountersCodec.isValidLength(value.count) else {
                    throw StoreError.corruptValue(reason: "not a cell: a \(key.count)-byte key with a \(value.count)-byte value", key: Array(key))
                }
                if scratch.count < key.count { scratch = [UInt8](repeating: 0, count: 2 * key.count) }
                scratch.withUnsafeMutableBytes { scratch in
                    table.add(value, to: table.group(for: RollupAccumulator.groupKey(of: key, in: .day, into: scratch.baseAddress!)))
                }
            }
            var openDaySums = GroupTable()
            for group in 0..<table.count {
                let groupKey = table.key(group)
                let value = table.value(group)
                let day = groupKey.withUnsafeBytes { Int64(bitPattern: UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) ^ (1 << 63)) }
                if day < openDay {
                    let key = [CellGranularity.day.prefix] + groupKey
                    key.withUnsafeBytes { key in value.withUnsafeBytes { value in batch.put(key: key, value: value) } }
                } else {
                    groupKey.withUnsafeBytes { key in value.withUnsafeBytes { value in openDaySums.add(value, to: openDaySums.group(for: key)) } }
                }
            }
            batch.put(key: RollupKeys.daysComplete, value: RollupKeys.encode(openDay))
            try db.write(batch, sync: true)
            writer.withLock { accumulator.addLateDays(openDaySums) }
            state.complete(before: hours)
        }
        state.minutesKeptFrom = try read(RollupKeys.minutesKeptFrom) ?? .min
        state.hoursKeptFrom = try read(RollupKeys.hoursKeptFrom) ?? .min
        state.daysKeptFrom = try read(RollupKeys.daysKeptFrom) ?? .min
        rollup.withLockedValue { $0 = state }
    }

    /// Completes the hour and day cells of every hour that ended `rollupSettleMinutes`
    /// before `now` (Unix seconds), from the accumulator (`RollupAccumulator`): one atomic
    /// WriteBatch holds the hours' cells, their days' shares, and the new progress.
    ///
    /// The first call after the store opens hands the hours past the progress to ingest:
    /// under the writer lock it takes a snapshot and starts accumulating every batch
    /// committed from then on; then it adds the snapshot's minutes past the progress to the
    /// accumulator, an hour at a time, completing each hour that is due as the scan passes
    /// it (on a data directory from before rollups, that is the one-time backfill; after a
    /// crash, the rebuild of what the accumulator held). Each minute is thus counted once:
    /// in the snapshot, or by a batch committed after it. `shouldStop` is asked between
    /// hours, so a shutdown need not wait for a backfill.
    @discardableResult
    public func rollUp(now: Int64, shouldStop: () -> Bool = { false }) throws -> RollupProgress {
        try builder.withLock {
            if let failure = rollup.withLockedValue({ $0.failure }) { throw RollupError(reason: failure) }
            let nowMinute = now >= 0 ? now / 60 : (now - 59) / 60
            let limit = CellGranularity.hour.start(ofMinute: nowMinute - Self.rollupSettleMinutes)
            var progress = RollupProgress()
            do {
                if !rollup.withLockedValue({ $0.accumulating }) { try catchUp(limit: limit, progress: &progress, shouldStop: shouldStop) }
                try writer.withLock { try complete(before: limit, progress: &progress) }
            } catch {
                // Whatever the accumulator holds may be partial now: stop feeding it; a
                // restart rebuilds it from the minute cells.
                writer.withLock {
                    accumulator = RollupAccumulator()
                    rollup.withLockedValue { state in
                        state.failure = (error as? RollupError)?.reason ?? "\(error)"
                        state.accumulating = false
                    }
                }
                throw RollupError(reason: (error as? RollupError)?.reason ?? "\(error)")
            }
            let state = rollup.withLockedValue { $0 }
            progress.hoursCompleteBefore = state.hoursComplete == .min ? nil : state.hoursComplete
            progress.daysCompleteBefore = state.daysComplete == .min ? nil : state.daysComplete
            progress.accumulatedGroups = writer.withLock { accumulator.groupCount }
            return progress
        }
    }

    /// The handover, then the snapshot's minutes past the progress into the accumulator.
    private func catchUp(limit: Int64, progress: inout RollupProgress, shouldStop: () -> Bool) throws {
        // The scan below would otherwise sort a copy of a large vector memtable.
        try db.flushMemtable(ifLargerThan: 4 << 20)
        let (snapshot, from) = try writer.withLock {
            let snapshot = try db.snapshot()
            let from = rollup.withLockedValue { state in
                state.accumulating = true
                return state.hoursComplete
            }
            return (snapshot, from)
        }
        var scanned = GroupTable()
        var hour: Int64?
        var scratch = [UInt8](repeating: 0, count: 1_024)
        try snapshot.scan(from: CellGranularity.minute.prefix(at: from), to: CellGranularity.minute.end) { key, value in
            guard key.count >= 9, CountersCodec.isValidLength(value.count) else {
                throw StoreError.corruptValue(reason: "not a cell: a \(key.count)-byte key with a \(value.count)-byte value", key: Array(key))
            }
            let start = CellGranularity.hour.start(ofMinute: CellFolder.time(of: key))
            if let current = hour, current != start, current + 60 <= limit {
                // Every minute of `current` in the snapshot is in; batches since, in the accumulator.
                try writer.withLock {
                    accumulator.add(scanned)
                    try complete(before: current + 60, progress: &progress)
                }
                scanned = GroupTable()
                if shouldStop() { throw RollupError(reason: "stopped part-way through the catch-up") }
            }
            hour = start
            if scratch.count < key.count { scratch = [UInt8](repeating: 0, count: 2 * key.count) }
            scratch.withUnsafeMutableBytes { scratch in
                let groupKey = RollupAccumulator.hourKey(of: key, into: scratch.baseAddress!)
                scanned.add(value, to: scanned.group(for: groupKey))
            }
        }
        writer.withLock { accumulator.add(scanned) }
    }

    /// Writes the accumulated hours before `end` and records every minute before it rolled
    /// up; from then on ingest merges such minutes into their hour cells itself (and into
    /// their day cells once the day is complete; until then into the accumulator's sums).
    /// Call with `writer` held.
    private func complete(before end: Int64, progress: inout RollupProgress) throws {
        guard end > rollup.withLockedValue({ $0.hoursComplete }) else { return }
        let batch = WriteBatch()
        let taken = accumulator.take(before: end, into: batch)
        batch.put(key: RollupKeys.hoursComplete, value: RollupKeys.encode(end))
        batch.put(key: RollupKeys.daysComplete, value: RollupKeys.encode(CellGranularity.day.start(ofMinute: end)))
        try db.write(batch, sync: false)
        rollup.withLockedValue { $0.complete(before: end) }
        progress.hoursBuilt += taken.hours
        progress.hourCellsWritten += taken.hourCells
        progress.dayCellsWritten += taken.dayCells
    }
}
