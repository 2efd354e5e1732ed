/// The hours not rolled up yet, summed in memory as batches commit: per (hour, dimensions),
/// the counters of every minute cell committed since the hour was handed to ingest
/// (`UsageStore.rollUp`). Completing hours writes each group once, as one hour-cell value,
/// in the WriteBatch that records them complete; their sums wait per (day, dimensions)
/// until the day completes, and are written then as one day-cell value each.
///
/// Why not merge every cell into its hour and day cells at ingest: that triples the
/// memtable's entries, and sorting them at flush cost 3.8× the CPU per cell of ingest
/// without rollups (docs/BENCHMARKS.md). Why not read the minutes back: a vector memtable
/// is sorted afresh by every iterator. Here a cell costs a hash and twelve adds, and an
/// hour's cells collapse into one entry per group. Lost in a crash, it is rebuilt from the
/// minute cells past the last complete hour (one scan, at the next handover), and the open
/// day's sums from its hour cells (`UsageStore.openRollups`).
///
/// Why values, not merge operands: a value is read without calling the merge operator,
/// and a 90-day query reads ~160 k day cells. So nothing may be in a day cell before its
/// day completes: a late minute of the open day (its hour complete already) is merged into
/// its hour cell and added to `days` here (`addLateDays`), not merged into the day cell.
///
/// Keys: the hour's (or day's) first minute as 8 bytes, ordered as in a cell key
/// (big-endian, sign bit flipped), then the cell key's dimension fields. Touched only
/// under the writer lock.
struct RollupAccumulator {
    private(set) var table = GroupTable()
    /// The complete hours of days not complete yet, per (day, dimensions): written to day
    /// cells when the day completes. Keys as `table`'s, with the day's first minute.
    private(set) var days = GroupTable()

    var groupCount: Int { table.count + days.count }

    /// The key of `key`'s hour group: a cell key (any granularity) with its first byte
    /// dropped and its minute replaced by its hour's, written to `destination`.
    static func hourKey(of key: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        groupKey(of: key, in: .hour, into: destination)
    }

    /// The key of `key`'s group in `granularity` (hour or day), as `hourKey`.
    static func groupKey(of key: UnsafeRawBufferPointer, in granularity: CellGranularity,
                         into destination: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        let start = granularity.start(ofMinute: CellFolder.time(of: key))
        destination.storeBytes(of: (UInt64(bitPattern: start) ^ (1 << 63)).bigEndian, as: UInt64.self)
        (destination + 8).copyMemory(from: key.baseAddress! + 9, byteCount: key.count - 9)
        return UnsafeRawBufferPointer(start: destination, count: key.count - 1)
    }

    mutating func add(_ groups: GroupTable) {
        table.add(groups)
    }

    /// Late minutes of days not complete yet, per (day, dimensions) (`CellEncoder`), or the
    /// open day's complete hours read back from their hour cells on open.
    mutating func addLateDays(_ groups: GroupTable) {
        days.add(groups)
    }

    /// Moves the groups of hours before `end` into `batch` as hour-cell values, and into
    /// the day groups; then the day groups of days that end by `end` into `batch` as
    /// day-cell values (one per day and dimensions). The rest stays.
    mutating func take(before end: Int64, into batch: WriteBatch) -> (hours: Int, hourCells: Int, dayCells: Int) {
        var kept = GroupTable()
        var hours = Set<Int64>()
        var hourCells = 0
        var key = [UInt8](repeating: 0, count: 1_024)
        for group in 0..<table.count {
            let groupKey = table.key(group)
            let hour = Self.start(of: groupKey)
            let value = table.value(group)
            if key.count < groupKey.count + 1 { key = [UInt8](repeating: 0, count: 2 * groupKey.count) }
            key.withUnsafeMutableBytes { key in
                value.withUnsafeBytes { value in
                    groupKey.withUnsafeBytes { groupKey in
                        (key.baseAddress! + 1).copyMemory(from: groupKey.baseAddress!, byteCount: groupKey.count)
                    }
                    let length = groupKey.count + 1
                    guard hour < end else {
                        kept.add(value, to: kept.group(for: UnsafeRawBufferPointer(rebasing: key[1..<length])))
                        return
                    }
                    key[0] = CellGranularity.hour.prefix
                    // A value, not a merge operand: nothing is in an hour cell before its
                    // hour completes (earlier minutes are merged only into complete hours),
                    // and a value is read without calling the merge operator.
                    batch.put(key: UnsafeRawBufferPointer(rebasing: key[0..<length]), value: value)
                    let day = CellGranularity.day.start(ofMinute: hour)
                    key.storeBytes(of: (UInt64(bitPattern: day) ^ (1 << 63)).bigEndian, toByteOffset: 1, as: UInt64.self)
                    days.add(value, to: days.group(for: UnsafeRawBufferPointer(rebasing: key[1..<length])))
                }
            }
            if hour < end {
                hours.insert(hour)
                hourCells += 1
            }
        }
        table = kept
        var keptDays = GroupTable()
        var dayCells = 0
        let complete = CellGranularity.day.start(ofMinute: end)
        for group in 0..<days.count {
            let groupKey = days.key(group)
            let value = days.value(group)
            if Self.start(of: groupKey) < complete {
                // A value: the day cell holds nothing yet (late minutes of the open day went
                // to `days`), and later late minutes merge on top of it.
                let dayKey = [CellGranularity.day.prefix] + groupKey
                dayKey.withUnsafeBytes { key in value.withUnsafeBytes { value in batch.put(key: key, value: value) } }
                dayCells += 1
            } else {
                groupKey.withUnsafeBytes { key in value.withUnsafeBytes { value in keptDays.add(value, to: keptDays.group(for: key)) } }
            }
        }
        days = keptDays
        return (hours.count, hourCells, dayCells)
    }

    /// The first minute of a group key's hour or day.
    private static func start(of groupKey: ArraySlice<UInt8>) -> Int64 {
        groupKey.withUnsafeBytes { Int64(bitPattern: UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) ^ (1 << 63)) }
    }
}
