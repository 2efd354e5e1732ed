import TollgateCore
import TollgateWire

/// Turns a batch's cells into counter merges and budget spend, as `UsageStore.prepare` reads them.
struct CellEncoder {
    let writes = WriteBatch()
    var tally: BudgetSpendTally
    let inline: InlineRollups
    var sightings = KeySightings()
    var spendSeries: SpendSeriesTally?
    /// With `inline.accumulating`: the cells of hours not complete yet, per (hour, dimensions).
    var hourGroups = GroupTable()
    /// Late minutes of the open day (hour complete, day not), per (day, dimensions), for
    /// the accumulator: a day cell is written once, as a value, when its day completes.
    var lateDayGroups = GroupTable()
    var cellCount = 0
    /// Each cell's key is written here from the received bytes, its value after it, and
    /// RocksDB copies both into the WriteBatch.
    private var scratch = UnsafeMutableRawPointer.allocate(byteCount: 1_024, alignment: 8)
    private var capacity = 1_024

    init(tally: BudgetSpendTally, inline: InlineRollups) {
        self.tally = tally
        self.inline = inline
    }

    /// Merges, not read-modify-write: a cell key that appears twice is simply added twice.
    mutating func add(_ cell: RawCell) {
        // Key, value, and the key again as the accumulator's (one byte shorter).
        let room = 2 * CellKeyCodec.maximumLength(cell.dimensions) + CountersCodec.byteCount
        if room > capacity {
            scratch.deallocate()
            capacity = room
            scratch = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        }
        let keyLength = CellKeyCodec.write(minute: cell.minute, fields: cell.dimensions, to: scratch)
        CountersCodec.write(cell.counters, to: scratch + keyLength)
        writes.merge(key: UnsafeRawBufferPointer(start: scratch, count: keyLength),
                     value: UnsafeRawBufferPointer(start: scratch + keyLength, count: CountersCodec.byteCount))
        // A late minute (one comparison for the rest): its hour is complete already, so it
        // is merged into its hour cell too, in this batch, and into its day cell if that
        // day is complete (else into the open day's sums). Any other is summed into its
        // hour's group, for the accumulator once the batch is committed.
        if cell.minute < inline.hoursBefore {
            rollUp(cell, into: .hour, keyLength: keyLength)
            if cell.minute < inline.daysBefore {
                rollUp(cell, into: .day, keyLength: keyLength)
            } else {
                let group = lateDayGroups.group(for: RollupAccumulator.groupKey(of: UnsafeRawBufferPointer(start: scratch, count: keyLength), in: .day,
                                                                                into: scratch + keyLength + CountersCodec.byteCount))
                lateDayGroups.add(UnsafeRawBufferPointer(start: scratch + keyLength, count: CountersCodec.byteCount), to: group)
            }
        } else if inline.accumulating {
            let group = hourGroups.group(for: RollupAccumulator.hourKey(of: UnsafeRawBufferPointer(start: scratch, count: keyLength),
                                                                        into: scratch + keyLength + CountersCodec.byteCount))
            hourGroups.add(UnsafeRawBufferPointer(start: scratch + keyLength, count: CountersCodec.byteCount), to: group)
        }
        tally.add(cell)
        sightings.add(cell)
        spendSeries?.add(cell)
        cellCount += 1
    }

    /// Rewrites the key in `scratch` (same dimensions) for `granularity` and merges the
    /// same counters under it.
    private func rollUp(_ cell: RawCell, into granularity: CellGranularity, keyLength: Int) {
        let length = CellKeyCodec.write(minute: granularity.start(ofMinute: cell.minute), fields: cell.dimensions, to: scratch,
                                        prefix: granularity.prefix)
        precondition(length == keyLength, "a rollup key is as long as its minute key")
        writes.merge(key: UnsafeRawBufferPointer(start: scratch, count: keyLength),
                     value: UnsafeRawBufferPointer(start: scratch + keyLength, count: CountersCodec.byteCount))
    }

    func deallocate() {
        scratch.deallocate()
    }
}
