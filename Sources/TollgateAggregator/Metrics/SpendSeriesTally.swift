import Foundation
import TollgateCore
import TollgateWire

/// A batch's spend and tokens summed per (provider, model, team), before anything touches a
/// shared counter: `UsageStore.prepare` sums each cell in the loop that encodes it (on the
/// socket thread, while the commit thread writes the previous batch), and the commit
/// thread adds a handful of sums per batch to `SpendSeries` once the batch is applied
/// (never for a duplicate or a refusal).
///
/// A batch holds one agent's cells, which share few (provider, model, team) triples, so the
/// last triple matched is tried first and the rest are searched linearly on their bytes.
public struct SpendSeriesTally: Sendable {
    struct Entry: Sendable {
        var provider: [UInt8]
        var model: [UInt8]
        var team: [UInt8]
        var sums: SpendSums
    }

    private(set) var entries: [Entry] = []
    private var last = -1
    /// Entry by a hash of its three fields (open addressing, -1 empty, at most half full):
    /// a benchmark batch spans 32 triples, and a linear search over them cost more than
    /// reading the cell; a `Dictionary` lookup per cell cost 17 % of ingest's CPU.
    private var slots = [Int](repeating: -1, count: 64)
    private var hashes: [UInt64] = []

    public init() {}

    /// Sums every cell of a batch as it arrived (`RawUsageBatch.encoded`); nil when it is
    /// malformed (the store refuses such a batch anyway).
    public static func of(encoded: Data) -> SpendSeriesTally? {
        var tally = SpendSeriesTally()
        do {
            try encoded.withUnsafeBytes { bytes in
                try UsageBatchReader.forEachCell(bytes) { tally.add($0) }
            }
        } catch {
            return nil
        }
        return tally
    }

    @inline(__always)
    mutating func add(_ cell: RawCell) {
        let dimensions = cell.dimensions
        if last >= 0, Self.matches(entries[last], dimensions) {
            entries[last].sums.add(cell.counters)
            return
        }
        let hash = Self.hash(dimensions[2], Self.hash(dimensions[3], Self.hash(dimensions[5], 0xcbf2_9ce4_8422_2325)))
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 {
            let index = slots[slot]
            if hashes[index] == hash, Self.matches(entries[index], dimensions) {
                last = index
                entries[index].sums.add(cell.counters)
                return
            }
            slot = (slot + 1) & mask
        }
        var sums = SpendSums()
        sums.add(cell.counters)
        entries.append(Entry(provider: Array(dimensions[2]), model: Array(dimensions[3]), team: Array(dimensions[5]), sums: sums))
        hashes.append(hash)
        last = entries.count - 1
        slots[slot] = last
        if entries.count * 2 > slots.count {
            slots = [Int](repeating: -1, count: slots.count * 2)
            let mask = slots.count - 1
            for (index, hash) in hashes.enumerated() {
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = index
            }
        }
    }

    /// FNV-1a over `field`'s bytes and a separator, continuing from `seed`.
    @inline(__always)
    private static func hash(_ field: UnsafeRawBufferPointer, _ seed: UInt64) -> UInt64 {
        var hash = seed
        for byte in field { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return (hash ^ 0xff) &* 0x100_0000_01b3
    }

    @inline(__always)
    private static func matches(_ entry: Entry, _ dimensions: DimensionBytes) -> Bool {
        equal(dimensions[5], entry.team) && equal(dimensions[3], entry.model) && equal(dimensions[2], entry.provider)
    }

    @inline(__always)
    private static func equal(_ field: UnsafeRawBufferPointer, _ value: [UInt8]) -> Bool {
        guard field.count == value.count else { return false }
        return value.withUnsafeBytes { value in value.count == 0 || memcmp(field.baseAddress!, value.baseAddress!, value.count) == 0 }
    }
}

/// What `tollgate_spend_usd_total` and `tollgate_tokens_total` count for one label set:
/// exact integers (nanodollars, tokens), turned into the exposition's numbers only when scraped.
struct SpendSums: Sendable, Equatable {
    var cost: Int64 = 0
    var tokens = TokenUsage()

    @inline(__always)
    mutating func add(_ counters: UsageCounters) {
        add(cost: counters.cost.value, tokens: counters.tokens)
    }

    mutating func add(_ other: SpendSums) {
        add(cost: other.cost, tokens: other.tokens)
    }

    // Field by field rather than `TokenUsage.add`: with that call the debug build of this
    // session lost the 1-hour cache writes (SpendSeriesTests caught it); not understood yet.
    @inline(__always)
    private mutating func add(cost: Int64, tokens added: TokenUsage) {
        self.cost &+= cost
        tokens.input &+= added.input
        tokens.cachedInput &+= added.cachedInput
        tokens.cacheWrite &+= added.cacheWrite
        tokens.cacheWrite1h &+= added.cacheWrite1h
        tokens.output &+= added.output
        tokens.reasoning &+= added.reasoning
    }

    /// The token classes in the order `tollgate_tokens_total{class}` lists them. Input
    /// includes cached input and cache writes, output includes reasoning (as in the store).
    var tokenClasses: [(name: String, value: Int64)] {
        [("input", tokens.input), ("cached_input", tokens.cachedInput), ("cache_write", tokens.cacheWrite),
         ("cache_write_1h", tokens.cacheWrite1h), ("output", tokens.output), ("reasoning", tokens.reasoning)]
    }
}
