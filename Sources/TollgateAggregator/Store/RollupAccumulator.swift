/// The hours not rolled up yet, summed in memory as batches commit: per (hour, dimensions),
/// the counters of every minute cell committed since the hour was handed to ingest
/// (`UsageStore.rollUp`). Completing hours writes each group once, as one hour-cell merge
/// and its share of one day-cell merge, in the WriteBatch that records them complete.
///
/// Why not merge every cell into its hour and day cells at ingest: that triples the
/// memtable's entries, and sorting them at flush cost 3.8× the CPU per cell of ingest
/// without rollups (docs/BENCHMARKS.md). Why not read the minutes back: a vector memtable
/// is sorted afresh by every iterator. Here a cell costs a hash and twelve adds, and an
/// hour's cells collapse into one entry per group. Lost in a crash, it is rebuilt from the
/// minute cells past the last complete hour (one scan, at the next handover).
///
/// Keys: the hour's first minute as 8 bytes, ordered as in a cell key (big-endian, sign
/// bit flipped), then the cell key's dimension fields. Touched only under the writer lock.
struct RollupAccumulator {
    private(set) var table = GroupTable()

    var groupCount: Int { table.count }

    /// The key of `key`'s hour group: a cell key (any granularity) with its first byte
    /// dropped and its minute replaced by its hour's, written to `destination`.
    static func hourKey(of key: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        let hour = CellGranularity.hour.start(ofMinute: CellFolder.time(of: key))
        destination.storeBytes(of: (UInt64(bitPattern: hour) ^ (1 << 63)).bigEndian, as: UInt64.self)
        (destination + 8).copyMemory(from: key.baseAddress! + 9, byteCount: key.count - 9)
        return UnsafeRawBufferPointer(start: destination, count: key.count - 1)
    }

    mutating func add(_ groups: GroupTable) {
        table.add(groups)
    }

    /// Moves the groups of hours before `end` into `batch` as hour and day cell merges
    /// (groups of one day and the same dimensions become one day merge), and keeps the rest.
    mutating func take(before end: Int64, into batch: WriteBatch) -> (hours: Int, hourCells: Int, dayCells: Int) {
        var kept = GroupTable()
        var days = GroupTable()
        var hours = Set<Int64>()
        var hourCells = 0
        var key = [UInt8](repeating: 0, count: 1_024)
        for group in 0..<table.count {
            let groupKey = table.key(group)
            let hour = groupKey.withUnsafeBytes { Int64(bitPattern: UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) ^ (1 << 63)) }
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
                    batch.merge(key: UnsafeRawBufferPointer(rebasing: key[0..<length]), value: value)
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
        for group in 0..<days.count {
            let dayKey = [CellGranularity.day.prefix] + days.key(group)
            let value = days.value(group)
            dayKey.withUnsafeBytes { key in value.withUnsafeBytes { value in batch.merge(key: key, value: value) } }
        }
        table = kept
        return (hours.count, hourCells, days.count)
    }
}
