import Foundation
import TollgateWire

/// When one API key was first and last seen, and its hint: what `tollgate keys list` shows
/// and what a key label's `<key id or hint>` is resolved against.
public struct KeySighting: Equatable, Sendable {
    public var keyID: String
    public var hint: String
    /// Minutes since the epoch (UTC) of the first and last cells of this key.
    public var firstMinute: Int64
    public var lastMinute: Int64

    public init(keyID: String, hint: String, firstMinute: Int64, lastMinute: Int64) {
        self.keyID = keyID
        self.hint = hint
        self.firstMinute = firstMinute
        self.lastMinute = lastMinute
    }
}

/// The keys of one batch with their first and last minute, gathered while `prepare` reads
/// the cells, so ingest learns who was seen without a second pass.
///
/// Called once per cell on the ingest path, so a cell costs no allocation: the last key is
/// compared first (cells of one key often follow each other), then an open-addressing
/// table hashed over the received bytes; only a key new to the batch is copied.
struct KeySightings {
    struct Entry {
        var keyID: [UInt8]
        var hint: [UInt8]
        var first: Int64
        var last: Int64
    }

    private(set) var entries: [Entry] = []
    /// Indexes into `entries`, -1 when empty; a power of two, at most half full.
    private var slots = [Int](repeating: -1, count: 16)
    private var recent = -1

    mutating func add(_ cell: RawCell) {
        let key = cell.dimensions[0]
        // Requests without a key (a misconfigured client) have no key to list.
        guard key.count > 0 else { return }
        if recent >= 0, Self.equal(entries[recent].keyID, key) {
            widen(recent, cell.minute)
            return
        }
        let mask = slots.count - 1
        var slot = Self.hash(key) & mask
        while slots[slot] >= 0 {
            let index = slots[slot]
            if Self.equal(entries[index].keyID, key) {
                recent = index
                widen(index, cell.minute)
                return
            }
            slot = (slot + 1) & mask
        }
        recent = entries.count
        slots[slot] = entries.count
        entries.append(Entry(keyID: Array(key), hint: Array(cell.dimensions[1]), first: cell.minute, last: cell.minute))
        if entries.count * 2 > slots.count { grow() }
    }

    private mutating func widen(_ index: Int, _ minute: Int64) {
        if minute < entries[index].first { entries[index].first = minute }
        if minute > entries[index].last { entries[index].last = minute }
    }

    private mutating func grow() {
        slots = [Int](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, entry) in entries.enumerated() {
            var slot = entry.keyID.withUnsafeBytes { Self.hash($0) } & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = index
        }
    }

    /// FNV-1a: keys are hex digests, already well mixed, so a cheap hash spreads them.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: hash)
    }

    private static func equal(_ bytes: [UInt8], _ view: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == view.count else { return false }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress!, view.baseAddress!, view.count) == 0 }
    }
}
