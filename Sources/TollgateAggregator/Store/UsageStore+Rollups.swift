import TollgateCore

/// What one `UsageStore.rollUp` call did.
public struct RollupProgress: Equatable, Sendable {
    public var hoursBuilt = 0
    public var daysBuilt = 0
    public var hourCellsWritten = 0
    public var dayCellsWritten = 0
    /// Hour and day cells hold every minute before these (minutes since the epoch; nil
    /// before the first build; `Int64.max` once ingest keeps them).
    public var hoursCompleteBefore: Int64?
    public var daysCompleteBefore: Int64?
}

/// Rollups could not be caught up; queries stay exact (they read minute cells past the last
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
    /// Loads the rollups' progress. Hour or day cells past the recorded progress can only
    /// be what a catch-up cut short by a crash left (with ingest's merges into them):
    /// they are dropped, and those hours and days are built again from their minutes.
    ///
    /// A store without progress and without minute cells (a new one) rolls up at ingest
    /// from its first batch; `rollups: false` leaves it to `rollUp` (to measure their cost).
    func openRollups(rollups: Bool) throws {
        var state = RollupState()
        func read(_ key: [UInt8]) throws -> Int64? { try db.get(key).map { try RollupKeys.decode($0, key: key) } }
        if let hours = try read(RollupKeys.hoursComplete), let days = try read(RollupKeys.daysComplete) {
            state.inlineHoursBefore = hours
            state.hoursComplete = hours
            state.inlineDaysBefore = days
            state.daysComplete = days
            if hours != .max || days != .max {
                let batch = WriteBatch()
                batch.deleteRange(from: CellGranularity.hour.prefix(at: hours), to: CellGranularity.hour.end)
                batch.deleteRange(from: CellGranularity.day.prefix(at: days), to: CellGranularity.day.end)
                try db.write(batch, sync: true)
            }
        } else if rollups, try db.snapshot().firstKey(from: CellGranularity.minute.prefix(at: .min), to: CellGranularity.minute.end) == nil {
            let batch = WriteBatch()
            batch.put(key: RollupKeys.hoursComplete, value: RollupKeys.encode(.max))
            batch.put(key: RollupKeys.daysComplete, value: RollupKeys.encode(.max))
            try db.write(batch, sync: true)
            state.inlineHoursBefore = .max
            state.hoursComplete = .max
            state.inlineDaysBefore = .max
            state.daysComplete = .max
        }
        state.minutesKeptFrom = try read(RollupKeys.minutesKeptFrom) ?? .min
        state.hoursKeptFrom = try read(RollupKeys.hoursKeptFrom) ?? .min
        state.daysKeptFrom = try read(RollupKeys.daysKeptFrom) ?? .min
        rollup.withLockedValue { $0 = state }
    }

    /// Brings the hour and day rollups up to date so that ingest maintains them from then
    /// on: every batch merges its cells' hour and day cells in the same atomic WriteBatch
    /// as its minute cells (`InlineRollups`). A store that already does (every store
    /// created since) has nothing to do here. A store with minutes not yet rolled up (data
    /// from before rollups, or a catch-up a crash cut short) hands all hours over to ingest
    /// at once, under the writer lock, with a snapshot taken at that instant, and builds
    /// the hours the snapshot holds from its minutes, an hour at a time in one scan; then
    /// the days from the hours, the same way. Each minute is thus counted in its hour
    /// exactly once: in the snapshot, or merged by a batch committed after it.
    ///
    /// `shouldStop` is asked between hours and days: a stop leaves the rollups complete up
    /// to there, and (ingest having taken over the rest) builds nothing more in this
    /// process; the next open drops the partial cells and resumes.
    @discardableResult
    public func rollUp(shouldStop: () -> Bool = { false }) throws -> RollupProgress {
        try builder.withLock {
            if let failure = rollup.withLockedValue({ $0.failure }) { throw RollupError(reason: failure) }
            var progress = RollupProgress()
            do {
                try catchUp(.hour, progress: &progress, shouldStop: shouldStop)
                try catchUp(.day, progress: &progress, shouldStop: shouldStop)
            } catch {
                rollup.withLockedValue { $0.failure = "\(error)" }
                throw RollupError(reason: "\(error)")
            }
            let state = rollup.withLockedValue { $0 }
            progress.hoursCompleteBefore = state.hoursComplete == .min ? nil : state.hoursComplete
            progress.daysCompleteBefore = state.daysComplete == .min ? nil : state.daysComplete
            return progress
        }
    }

    /// Whether ingest writes every hour and day cell itself (nothing left to build).
    public var rollsUpAtIngest: Bool {
        rollup.withLockedValue { $0.hoursComplete == .max && $0.daysComplete == .max }
    }

    /// Builds `target` cells (hours from minute cells, days from hour cells) from where they
    /// are complete to the end of the source cells, after handing every later period over
    /// to ingest. Days wait for the hours.
    private func catchUp(_ target: CellGranularity, progress: inout RollupProgress, shouldStop: () -> Bool) throws {
        let source: CellGranularity = target == .hour ? .minute : .hour
        let progressKey = target == .hour ? RollupKeys.hoursComplete : RollupKeys.daysComplete
        let (complete, hoursComplete) = rollup.withLockedValue { state in
            (target == .hour ? state.hoursComplete : state.daysComplete, state.hoursComplete)
        }
        guard complete != .max, target == .hour || hoursComplete == .max else { return }
        // The scan below would otherwise sort a copy of a large vector memtable.
        try db.flushMemtable(ifLargerThan: 4 << 20)
        // The handover: no commit runs while the snapshot is taken and ingest takes over,
        // so each source cell is in the snapshot or merged by ingest, never both.
        let snapshot = try writer.withLock {
            let snapshot = try db.snapshot()
            let state = rollup.withLockedValue { state in
                if target == .hour { state.inlineHoursBefore = .max } else { state.inlineDaysBefore = .max }
                return state
            }
            // Both horizons on disk from the first handover on (a store without rollups has
            // none): after a crash, `openRollups` must find what to drop.
            let batch = Self.progressBatch(RollupKeys.hoursComplete, state.hoursComplete)
            batch.put(key: RollupKeys.daysComplete, value: RollupKeys.encode(state.daysComplete))
            try db.write(batch, sync: false)
            return snapshot
        }
        var table = GroupTable()
        var period: Int64?
        var stopped = false
        // Writes the period's cells and records it complete.
        func finish(_ start: Int64) throws {
            let end = start + target.span
            let batch = Self.progressBatch(progressKey, end)
            let prefix = target.prefix(at: start)
            for group in 0..<table.count {
                let key = prefix + table.key(group)
                let value = table.value(group)
                key.withUnsafeBytes { key in value.withUnsafeBytes { value in batch.merge(key: key, value: value) } }
            }
            try db.write(batch, sync: false)
            record(target, complete: end)
            if target == .hour {
                progress.hoursBuilt += 1
                progress.hourCellsWritten += table.count
            } else {
                progress.daysBuilt += 1
                progress.dayCellsWritten += table.count
            }
            table = GroupTable()
        }
        struct Stop: Error {}
        do {
            try snapshot.scan(from: source.prefix(at: complete), to: source.end) { key, value in
                guard key.count >= 9, CountersCodec.isValidLength(value.count) else {
                    throw StoreError.corruptValue(reason: "not a cell: a \(key.count)-byte key with a \(value.count)-byte value", key: Array(key))
                }
                let start = target.start(ofMinute: CellFolder.time(of: key))
                if let current = period, current != start {
                    try finish(current)
                    if shouldStop() { throw Stop() }
                }
                period = start
                table.add(value, to: table.group(for: UnsafeRawBufferPointer(rebasing: key[9...])))
            }
            if let current = period { try finish(current) }
        } catch is Stop {
            stopped = true
        }
        if stopped {
            rollup.withLockedValue { $0.failure = "stopped part-way through building the \(target.label) rollups" }
            return
        }
        // Everything the snapshot held is built; ingest writes the rest.
        try db.write(Self.progressBatch(progressKey, .max), sync: false)
        record(target, complete: .max)
    }

    private static func progressBatch(_ key: [UInt8], _ minute: Int64) -> WriteBatch {
        let batch = WriteBatch()
        batch.put(key: key, value: RollupKeys.encode(minute))
        return batch
    }

    private func record(_ target: CellGranularity, complete: Int64) {
        rollup.withLockedValue { state in
            if target == .hour { state.hoursComplete = complete } else { state.daysComplete = complete }
        }
    }
}
