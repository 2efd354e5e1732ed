import TollgateCore

/// What one `UsageStore.rollUp` call did.
public struct RollupProgress: Equatable, Sendable {
    public var hoursBuilt = 0
    public var daysBuilt = 0
    public var hourCellsWritten = 0
    public var dayCellsWritten = 0
    /// Hour and day cells hold every minute before these (minutes since the epoch; nil
    /// before the first build).
    public var hoursCompleteBefore: Int64?
    public var daysCompleteBefore: Int64?
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
    /// An hour is built this many minutes after it ends: agents ship within seconds, and a
    /// minute arriving later still counts (ingest merges it into the built hour).
    public static let rollupSettleMinutes: Int64 = 5

    /// Loads the rollups' progress. Hour or day cells past the recorded progress can only
    /// be what a build cut short by a crash left (with late minutes merged into them):
    /// they are dropped, and that hour or day is built again from its minutes.
    func openRollups() throws {
        var state = RollupState()
        func read(_ key: [UInt8]) throws -> Int64? { try db.get(key).map { try RollupKeys.decode($0, key: key) } }
        if let hours = try read(RollupKeys.hoursComplete), let days = try read(RollupKeys.daysComplete) {
            state.inlineHoursBefore = hours
            state.hoursComplete = hours
            state.inlineDaysBefore = days
            state.daysComplete = days
            let batch = WriteBatch()
            batch.deleteRange(from: CellGranularity.hour.prefix(at: hours), to: CellGranularity.hour.end)
            batch.deleteRange(from: CellGranularity.day.prefix(at: days), to: CellGranularity.day.end)
            try db.write(batch, sync: true)
        }
        state.minutesKeptFrom = try read(RollupKeys.minutesKeptFrom) ?? .min
        state.hoursKeptFrom = try read(RollupKeys.hoursKeptFrom) ?? .min
        state.daysKeptFrom = try read(RollupKeys.daysKeptFrom) ?? .min
        rollup.withLockedValue { $0 = state }
    }

    /// Builds the hour cells of every hour that ended `rollupSettleMinutes` before `now`
    /// (Unix seconds), from its minute cells, and the day cells of every day whose hours are
    /// all built, from its hour cells. The first call on a store that has minute cells but
    /// no rollups (data from before rollups existed) backfills them all, an hour at a time;
    /// `shouldStop` is asked between hours so a shutdown need not wait for it.
    ///
    /// Exactness: an hour is handed over under the writer lock, with a snapshot of its
    /// minutes taken at that instant; every batch committed after it merges its minutes of
    /// that hour into the hour cell itself (`InlineRollups`). Each minute is thus counted in
    /// its hour exactly once, whenever it arrives.
    @discardableResult
    public func rollUp(now: Int64, shouldStop: () -> Bool = { false }) throws -> RollupProgress {
        try builder.withLock {
            if let failure = rollup.withLockedValue({ $0.failure }) { throw RollupError(reason: failure) }
            let nowMinute = now >= 0 ? now / 60 : (now - 59) / 60
            let limit = CellGranularity.hour.start(ofMinute: nowMinute - Self.rollupSettleMinutes)
            var progress = RollupProgress()
            do {
                try startRollups(limit: limit)
                while !shouldStop(), try buildNext(.hour, limit: limit, progress: &progress) {}
                while !shouldStop(), try buildNext(.day, limit: limit, progress: &progress) {}
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

    /// On the first build, starts at the hour of the oldest minute cell (or at `limit` in
    /// an empty store): nothing before it exists to roll up.
    private func startRollups(limit: Int64) throws {
        try writer.withLock {
            guard rollup.withLockedValue({ $0.hoursComplete }) == .min else { return }
            let first = try db.snapshot().firstKey(from: CellGranularity.minute.prefix(at: .min), to: CellGranularity.minute.end)
            let hour = min(first.map { key in key.withUnsafeBytes(CellFolder.time(of:)) }.map(CellGranularity.hour.start(ofMinute:)) ?? limit, limit)
            let day = CellGranularity.day.start(ofMinute: hour)
            let batch = WriteBatch()
            batch.put(key: RollupKeys.hoursComplete, value: RollupKeys.encode(hour))
            batch.put(key: RollupKeys.daysComplete, value: RollupKeys.encode(day))
            try db.write(batch, sync: false)
            rollup.withLockedValue { state in
                state.inlineHoursBefore = hour
                state.hoursComplete = hour
                state.inlineDaysBefore = day
                state.daysComplete = day
            }
        }
    }

    /// Builds the next hour (from minute cells) or day (from hour cells); false when there
    /// is none to build yet. A stretch with no source cells is skipped in one step.
    private func buildNext(_ target: CellGranularity, limit: Int64, progress: inout RollupProgress) throws -> Bool {
        let source: CellGranularity = target == .hour ? .minute : .hour
        let progressKey = target == .hour ? RollupKeys.hoursComplete : RollupKeys.daysComplete
        let due = rollup.withLockedValue { state in
            target == .hour ? state.hoursComplete + 60 <= limit : state.daysComplete + 1_440 <= state.hoursComplete
        }
        guard due else { return false }
        try db.flushMemtable(ifLargerThan: 4 << 20)
        // Hand the period over: no commit runs while the snapshot is taken and the inline
        // threshold moves, so each minute is in the snapshot or merged inline, never both.
        writer.lock()
        var locked = true
        defer { if locked { writer.unlock() } }
        let state = rollup.withLockedValue { $0 }
        let start = target == .hour ? state.hoursComplete : state.daysComplete
        let end = start + target.span
        // Days wait for all their hours; hours for the settle time.
        guard end <= (target == .hour ? limit : state.hoursComplete) else { return false }
        let snapshot = try db.snapshot()
        let next = try snapshot.firstKey(from: source.prefix(at: start), to: source.end).map { key in key.withUnsafeBytes(CellFolder.time(of:)) }
        if next.map({ $0 >= end }) ?? true {
            let ceiling = target == .hour ? limit : target.start(ofMinute: state.hoursComplete)
            let skipTo = max(end, min(next.map(target.start(ofMinute:)) ?? ceiling, ceiling))
            try db.write(Self.progressBatch(progressKey, skipTo), sync: false)
            record(target, handedOver: skipTo, complete: skipTo)
            return true
        }
        record(target, handedOver: end, complete: nil)
        writer.unlock()
        locked = false

        var table = GroupTable()
        try snapshot.scan(from: source.prefix(at: start), to: source.prefix(at: end)) { key, value in
            guard key.count >= 9, CountersCodec.isValidLength(value.count) else {
                throw StoreError.corruptValue(reason: "not a cell: a \(key.count)-byte key with a \(value.count)-byte value", key: Array(key))
            }
            table.add(value, to: table.group(for: UnsafeRawBufferPointer(rebasing: key[9...])))
        }
        let batch = Self.progressBatch(progressKey, end)
        let prefix = target.prefix(at: start)
        for group in 0..<table.count {
            let key = prefix + table.key(group)
            let value = table.value(group)
            key.withUnsafeBytes { key in value.withUnsafeBytes { value in batch.merge(key: key, value: value) } }
        }
        try db.write(batch, sync: false)
        record(target, handedOver: nil, complete: end)
        if target == .hour {
            progress.hoursBuilt += 1
            progress.hourCellsWritten += table.count
        } else {
            progress.daysBuilt += 1
            progress.dayCellsWritten += table.count
        }
        return true
    }

    private static func progressBatch(_ key: [UInt8], _ minute: Int64) -> WriteBatch {
        let batch = WriteBatch()
        batch.put(key: key, value: RollupKeys.encode(minute))
        return batch
    }

    private func record(_ target: CellGranularity, handedOver: Int64?, complete: Int64?) {
        rollup.withLockedValue { state in
            if target == .hour {
                if let handedOver { state.inlineHoursBefore = handedOver }
                if let complete { state.hoursComplete = complete }
            } else {
                if let handedOver { state.inlineDaysBefore = handedOver }
                if let complete { state.daysComplete = complete }
            }
        }
    }
}
