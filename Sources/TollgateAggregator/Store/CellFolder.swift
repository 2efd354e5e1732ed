import Glibc
import TollgateCore

/// Folds stored cells (of any granularity) into the groups of a usage query, reading each
/// key's fields in place: filters compare bytes, the grouped fields are copied into one
/// byte string, and the value's counters are added to its group (`GroupTable`). No
/// `String` is made per cell; only the groups found are decoded at the end.
struct CellFolder {
    /// Stored field indices kept in a group, ascending (the key hint rides with the key).
    private let kept: [Int]
    /// Stored field index and the UTF-8 bytes it must equal.
    private let filters: [(index: Int, value: [UInt8])]
    private let every: UsageBucket?
    private var table = GroupTable()
    /// Field `i` of the key being folded starts at `fields[2i]` and is `fields[2i+1]` long.
    private let fields = UnsafeMutablePointer<Int>.allocate(capacity: 2 * Dimensions.storedFieldCount)
    private var scratch = UnsafeMutableRawPointer.allocate(byteCount: 1_024, alignment: 8)
    private var capacity = 1_024
    private var lastTime = Int64.min
    private var lastBucket: Int64 = 0

    init(groupBy: [TollgateCore.UsageDimension], filters: [UsageFilter], every: UsageBucket?) {
        var kept = Set(groupBy.map(Dimensions.storedIndex(of:)))
        if groupBy.contains(.key) { kept.insert(1) }
        self.kept = kept.sorted()
        self.filters = filters.map { (Dimensions.storedIndex(of: $0.dimension), Array($0.value.utf8)) }
        self.every = every
    }

    func deallocate() {
        fields.deallocate()
        scratch.deallocate()
    }

    /// The bucket-start minute a cell's first minute is stored as (bytes 1…8 of its key).
    @inline(__always)
    static func time(of key: UnsafeRawBufferPointer) -> Int64 {
        Int64(bitPattern: UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 1, as: UInt64.self)) ^ (1 << 63))
    }

    /// Finds the dimension fields of `key` in place; false if it is not a well-formed cell key.
    @inline(__always)
    static func parseFields(_ key: UnsafeRawBufferPointer, into fields: UnsafeMutablePointer<Int>) -> Bool {
        guard key.count >= 9 else { return false }
        var offset = 9
        for index in 0..<Dimensions.storedFieldCount {
            // Format 1 keys stop after the host (see `legacyStoredFieldCount`).
            if index == Dimensions.legacyStoredFieldCount, offset == key.count {
                for missing in index..<Dimensions.storedFieldCount {
                    fields[2 * missing] = offset
                    fields[2 * missing + 1] = 0
                }
                return true
            }
            guard offset + 2 <= key.count else { return false }
            let length = Int(key[offset]) << 8 | Int(key[offset + 1])
            offset += 2
            guard offset + length <= key.count else { return false }
            fields[2 * index] = offset
            fields[2 * index + 1] = length
            offset += length
        }
        return offset == key.count
    }

    mutating func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        guard Self.parseFields(key, into: fields) else {
            throw StoreError.corruptKey(reason: "not a well-formed cell key", key: Array(key))
        }
        guard CountersCodec.isValidLength(value.count) else {
            throw StoreError.corruptValue(reason: "counters are \(CountersCodec.byteCount) bytes, found \(value.count)", key: Array(key))
        }
        for filter in filters {
            let length = fields[2 * filter.index + 1]
            guard length == filter.value.count else { return }
            let equal = length == 0 || filter.value.withUnsafeBytes {
                memcmp(key.baseAddress! + fields[2 * filter.index], $0.baseAddress!, length) == 0
            }
            guard equal else { return }
        }
        var needed = 8
        for index in kept { needed += 2 + fields[2 * index + 1] }
        if needed > capacity {
            scratch.deallocate()
            capacity = needed * 2
            scratch = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        }
        var length = 0
        if let every {
            let time = Self.time(of: key)
            if time != lastTime {
                lastTime = time
                lastBucket = every.start(ofMinute: time)
            }
            scratch.storeBytes(of: lastBucket, toByteOffset: 0, as: Int64.self)
            length = 8
        }
        for index in kept {
            let fieldLength = fields[2 * index + 1]
            scratch.storeBytes(of: UInt16(fieldLength).bigEndian, toByteOffset: length, as: UInt16.self)
            if fieldLength > 0 {
                (scratch + length + 2).copyMemory(from: key.baseAddress! + fields[2 * index], byteCount: fieldLength)
            }
            length += 2 + fieldLength
        }
        let group = table.group(for: UnsafeRawBufferPointer(start: scratch, count: length))
        table.add(value, to: group)
    }

    /// Adds the groups `other` folded (a query's other part, `QueryPlan.parts`); both were
    /// made for the same query, so their group keys mean the same.
    mutating func add(_ other: CellFolder) {
        table.add(other.table)
    }

    /// The groups found, unsorted.
    func groups() throws -> [UsageGroup] {
        try (0..<table.count).map { group in
            let key = Array(table.key(group))
            var offset = 0
            var bucket: Int64?
            if every != nil {
                bucket = key.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
                offset = 8
            }
            var stored = [String](repeating: "", count: Dimensions.storedFieldCount)
            for index in kept {
                let length = Int(key[offset]) << 8 | Int(key[offset + 1])
                offset += 2
                guard let value = String(validating: key[offset..<offset + length], as: UTF8.self) else {
                    throw StoreError.corruptKey(reason: "dimension field \(index) is not valid UTF-8", key: key)
                }
                stored[index] = value
                offset += length
            }
            let counters = try CountersCodec.decode(table.value(group))
            return UsageGroup(dimensions: Dimensions(storedFields: stored), counters: counters, bucketStartMinute: bucket)
        }
    }
}
