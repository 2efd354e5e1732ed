import Glibc

/// Sums of counters keyed by byte strings, folded in place: the inner loop of a query and
/// of the rollup builder. A `Dictionary` keyed by `Dimensions` (or by `[UInt8]`) allocates
/// per cell, and decoding a cell's 13 fields into `String`s cost 7–9 µs a cell; here a
/// cell costs a hash of its grouping bytes, a probe, and twelve adds.
struct GroupTable {
    /// Open addressing, linear probing; -1 is an empty slot. Kept at most half full.
    private var slots = [Int32](repeating: -1, count: 1_024)
    private var hashes: [UInt64] = []
    /// Group `g`'s key is `keyBytes[keyOffsets[g]..<keyOffsets[g + 1]]`.
    private var keyOffsets: [Int] = [0]
    private var keyBytes: [UInt8] = []
    /// `CountersCodec.fieldCount` sums per group, in the codec's field order.
    private var sums: [Int64] = []

    var count: Int { hashes.count }

    /// The group for `key`, created (with zero sums) when new.
    @inline(__always)
    mutating func group(for key: UnsafeRawBufferPointer) -> Int {
        group(for: key, hash: Self.hash(key))
    }

    /// The group for `key`, whose `hash(_:)` is `hash`.
    @inline(__always)
    private mutating func group(for key: UnsafeRawBufferPointer, hash: UInt64) -> Int {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let group = Int(slots[slot])
            if group < 0 { break }
            if hashes[group] == hash, matches(key, group) { return group }
            slot = (slot + 1) & mask
        }
        let group = hashes.count
        hashes.append(hash)
        keyBytes.append(contentsOf: key)
        keyOffsets.append(keyBytes.count)
        sums.append(contentsOf: repeatElement(0, count: CountersCodec.fieldCount))
        slots[slot] = Int32(group)
        if hashes.count * 2 > slots.count { grow() }
        return group
    }

    /// Adds a stored counters value (either codec version; the caller checked its length).
    @inline(__always)
    mutating func add(_ value: UnsafeRawBufferPointer, to group: Int) {
        let fields = value.count / 8
        sums.withUnsafeMutableBufferPointer { sums in
            let base = group * CountersCodec.fieldCount
            for field in 0..<fields {
                sums[base + field] &+= Int64(littleEndian: value.loadUnaligned(fromByteOffset: field * 8, as: Int64.self))
            }
        }
    }

    /// Adds every group of `other` to this table's group of the same key (its hashes reused).
    mutating func add(_ other: GroupTable) {
        for source in 0..<other.count {
            let group = other.keyBytes.withUnsafeBytes { bytes in
                self.group(for: UnsafeRawBufferPointer(rebasing: bytes[other.keyOffsets[source]..<other.keyOffsets[source + 1]]),
                           hash: other.hashes[source])
            }
            // Through buffers: this runs per group of every committed batch, under the
            // writer lock, and checked array accesses were most of it.
            let base = group * CountersCodec.fieldCount, sourceBase = source * CountersCodec.fieldCount
            sums.withUnsafeMutableBufferPointer { sums in
                other.sums.withUnsafeBufferPointer { from in
                    for field in 0..<CountersCodec.fieldCount { sums[base + field] &+= from[sourceBase + field] }
                }
            }
        }
    }

    /// Group `group`'s key bytes.
    func key(_ group: Int) -> ArraySlice<UInt8> { keyBytes[keyOffsets[group]..<keyOffsets[group + 1]] }

    /// Group `group`'s sums as a current-version counters value.
    func value(_ group: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: CountersCodec.byteCount) { buffer, count in
            for field in 0..<CountersCodec.fieldCount {
                let sum = sums[group * CountersCodec.fieldCount + field]
                UnsafeMutableRawPointer(buffer.baseAddress!).storeBytes(
                    of: UInt64(bitPattern: sum).littleEndian, toByteOffset: field * 8, as: UInt64.self)
            }
            count = CountersCodec.byteCount
        }
    }

    private func matches(_ key: UnsafeRawBufferPointer, _ group: Int) -> Bool {
        let start = keyOffsets[group]
        guard keyOffsets[group + 1] - start == key.count else { return false }
        guard key.count > 0 else { return true }
        return keyBytes.withUnsafeBytes { memcmp($0.baseAddress! + start, key.baseAddress!, key.count) == 0 }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for group in hashes.indices {
            var slot = Int(truncatingIfNeeded: hashes[group]) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(group)
        }
    }

    /// 8 bytes at a time, multiply-xorshift; the final mix spreads the low bits the slot
    /// index is taken from.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 29)
    }
}
