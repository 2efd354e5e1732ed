import TollgateCore
import TollgateWire

/// Turns a batch's cells into counter merges and budget spend, as `UsageStore.prepare` reads them.
struct CellEncoder {
    let writes = WriteBatch()
    var tally: BudgetSpendTally
    let inline: InlineRollups
    var sightings = KeySightings()
    var spendSeries: SpendSeriesTally?
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
        let room = CellKeyCodec.maximumLength(cell.dimensions) + CountersCodec.byteCount
        if room > capacity {
            scratch.deallocate()
            capacity = room
            scratch = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        }
        let keyLength = CellKeyCodec.write(minute: cell.minute, fields: cell.dimensions, to: scratch)
        CountersCodec.write(cell.counters, to: scratch + keyLength)
        writes.merge(key: UnsafeRawBufferPointer(start: scratch, count: keyLength),
                     value: UnsafeRawBufferPointer(start: scratch + keyLength, count: CountersCodec.byteCount))
        // Ingest maintains the rollups (every store since their catch-up): the cell's hour
        // and day cells get the same counters in the same atomic batch, so they are exact
        // by construction, crash or not, and nothing reads the minutes back.
        if cell.minute < inline.hoursBefore {
            rollUp(cell, into: .hour, keyLength: keyLength)
            if cell.minute < inline.daysBefore { rollUp(cell, into: .day, keyLength: keyLength) }
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
