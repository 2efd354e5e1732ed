import TollgateCore
import TollgateWire

/// The on-disk layout of usage cells and agent sequence numbers.
///
/// Key spaces, by first byte:
/// - `"a"` + agent ID (UTF-8) → the agent's last applied batch seq, UInt64 little-endian.
/// - `"c"` + minute + dimensions → `UsageCounters`.
/// - `"h"`, `"d"`: hour and day rollups of the minute cells (`CellGranularity`), and
///   `"r"`: how far they reach (`RollupKeys`).
///
/// Cell key format 2 stores 13 dimension fields (`Dimensions.storedFields`: format 1's 11,
/// then served and requested model). Format 1 keys (11 fields) are still decoded, with
/// those two empty; their `model` is whatever the agent sent then (often a snapshot), so
/// reports over old minutes may show it apart from the canonical model.
///
/// The minute is stored big-endian with its sign bit flipped so RocksDB's bytewise order
/// is time order (negative minutes included), which makes a time range one contiguous scan.
/// Changing any of this changes the meaning of existing data directories.
enum CellKeyCodec {
    static let cellPrefix = UInt8(ascii: "c")
    static let agentPrefix = UInt8(ascii: "a")

    static func encode(_ key: CellKey) -> [UInt8] {
        // Not on the ingest path (that is `write(minute:fields:to:)` on a batch's bytes):
        // the fields are gathered into one array and encoded through views of it.
        let fields = key.dimensions.storedFields.map { Array($0.utf8) }
        return Array(fields.joined()).withUnsafeBytes { all in
            var views = DimensionBytes()
            var offset = 0
            for index in fields.indices {
                views[index] = UnsafeRawBufferPointer(rebasing: all[offset..<offset + fields[index].count])
                offset += fields[index].count
            }
            return [UInt8](unsafeUninitializedCapacity: maximumLength(views)) { buffer, count in
                count = write(minute: key.minute, fields: views, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            }
        }
    }

    /// At least the length of the key of a cell with these dimension fields (exactly it,
    /// unless a field is cut): what `write` needs room for.
    @inline(__always)
    static func maximumLength(_ fields: DimensionBytes) -> Int {
        9 + 2 * Dimensions.storedFieldCount + fields.totalCount
    }

    /// Writes the key of the cell (`minute`, `fields`) at `destination`, which must have
    /// room for `maximumLength(fields)` bytes, and returns the key's length. Pointer-based
    /// because ingest encodes every cell of every batch straight from the received bytes.
    @inline(__always)
    /// `prefix` is a `CellGranularity`'s: ingest writes late minutes' hour and day cells too.
    static func write(minute: Int64, fields: DimensionBytes,
                      to destination: UnsafeMutableRawPointer, prefix: UInt8 = cellPrefix) -> Int {
        let ordered = UInt64(bitPattern: minute) ^ (1 << 63)
        destination.storeBytes(of: prefix, as: UInt8.self)
        destination.storeBytes(of: ordered.bigEndian, toByteOffset: 1, as: UInt64.self)
        var offset = 9
        fields.forEach { field in
            let length = storedLength(field)
            destination.storeBytes(of: UInt16(length).bigEndian, toByteOffset: offset, as: UInt16.self)
            let target = destination + offset + 2
            if length > 16 {
                target.copyMemory(from: field.baseAddress!, byteCount: length)
            } else {
                // Most values are a few bytes: a loop beats a call into memmove per field.
                for byte in 0..<length { target.storeBytes(of: field[byte], toByteOffset: byte, as: UInt8.self) }
            }
            offset += 2 + length
        }
        return offset
    }

    /// How many of a field's UTF-8 bytes are stored. Longer values are cut (at a character
    /// boundary) rather than failing ingest: a rejected batch would be resent forever. No
    /// real dimension value is 64 KiB.
    @inline(__always)
    private static func storedLength(_ utf8: UnsafeRawBufferPointer) -> Int {
        guard utf8.count > Int(UInt16.max) else { return utf8.count }
        var length = Int(UInt16.max)
        while utf8[length] & 0xC0 == 0x80 { length -= 1 }
        return length
    }

    /// The first key any cell of `minute` can have: a scan bound for time ranges.
    static func minutePrefix(_ minute: Int64) -> [UInt8] {
        let ordered = UInt64(bitPattern: minute) ^ (1 << 63)
        return [cellPrefix] + withUnsafeBytes(of: ordered.bigEndian, Array.init)
    }

    static func decode(_ bytes: [UInt8]) throws -> CellKey {
        guard bytes.count >= 9, bytes[0] == cellPrefix else {
            throw StoreError.corruptKey(reason: "not a cell key: expected \"c\" and an 8-byte minute", key: bytes)
        }
        var ordered: UInt64 = 0
        for byte in bytes[1..<9] { ordered = ordered << 8 | UInt64(byte) }
        let minute = Int64(bitPattern: ordered ^ (1 << 63))

        var fields: [String] = []
        var offset = 9
        for index in 0..<Dimensions.storedFieldCount {
            // Format 1 keys stop after the host (see `legacyStoredFieldCount`).
            if index == Dimensions.legacyStoredFieldCount, offset == bytes.count { break }
            guard offset + 2 <= bytes.count else {
                throw StoreError.corruptKey(reason: "truncated before the length of dimension field \(index)", key: bytes)
            }
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            offset += 2
            guard offset + length <= bytes.count else {
                throw StoreError.corruptKey(reason: "dimension field \(index) claims \(length) bytes past the end", key: bytes)
            }
            guard let field = String(validating: bytes[offset..<offset + length], as: UTF8.self) else {
                throw StoreError.corruptKey(reason: "dimension field \(index) is not valid UTF-8", key: bytes)
            }
            fields.append(field)
            offset += length
        }
        guard offset == bytes.count else {
            throw StoreError.corruptKey(reason: "\(bytes.count - offset) unexpected trailing bytes", key: bytes)
        }
        return CellKey(minute: minute, dimensions: Dimensions(storedFields: fields))
    }

    static func agentKey(_ agentID: String) -> [UInt8] {
        [agentPrefix] + Array(agentID.utf8)
    }

    static func encodeSeq(_ seq: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: seq >> UInt64($0 * 8)) }
    }

    static func decodeSeq(_ bytes: [UInt8], key: [UInt8]) throws -> UInt64 {
        guard bytes.count == 8 else {
            throw StoreError.corruptValue(reason: "an agent seq is 8 bytes, found \(bytes.count)", key: key)
        }
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// `UsageCounters` as 14 little-endian Int64s in a fixed order; fixed width so a wrong
/// length is a certain sign of corruption or a format change.
///
/// The width is the format's version. Version 1 (11 fields, 88 bytes) predates 1-hour
/// cache writes; version 2 (12 fields) appends `cacheWrite1h` as field 11; version 3 appends
/// `routed` and `routingSavings` (policies, issue #20) as fields 12 and 13. Values of every
/// version are read (missing fields are zero), and the merge operator and the rollups sum
/// them into the current version field by field, so existing data directories need no migration.
enum CountersCodec {
    static let fieldCount = 14
    static let byteCount = fieldCount * 8
    /// Fields of a version 1 value.
    static let version1FieldCount = 11
    static let version1ByteCount = version1FieldCount * 8
    /// Fields of a version 2 value (before routing).
    static let version2FieldCount = 12
    static let version2ByteCount = version2FieldCount * 8

    /// Whether `length` is the width of a stored counters value of any version.
    static func isValidLength(_ length: Int) -> Bool {
        length == byteCount || length == version2ByteCount || length == version1ByteCount
    }

    static func encode(_ counters: UsageCounters) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, count in
            write(counters, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            count = byteCount
        }
    }

    /// Writes the `byteCount` bytes of `counters` at `destination`.
    @inline(__always)
    static func write(_ counters: UsageCounters, to destination: UnsafeMutableRawPointer) {
        func store(_ field: Int64, _ index: Int) {
            destination.storeBytes(of: UInt64(bitPattern: field).littleEndian, toByteOffset: index * 8, as: UInt64.self)
        }
        store(counters.requests, 0)
        store(counters.tokens.input, 1)
        store(counters.tokens.cachedInput, 2)
        store(counters.tokens.cacheWrite, 3)
        store(counters.tokens.output, 4)
        store(counters.tokens.reasoning, 5)
        store(counters.cost.value, 6)
        store(counters.errors, 7)
        store(counters.blocked, 8)
        store(counters.estimated, 9)
        store(counters.unpriced, 10)
        store(counters.tokens.cacheWrite1h, 11)
        store(counters.routed, 12)
        store(counters.routingSavings.value, 13)
    }

    static func decode(_ bytes: [UInt8], key: [UInt8] = []) throws -> UsageCounters {
        guard isValidLength(bytes.count) else {
            throw StoreError.corruptValue(reason: "counters are \(byteCount) bytes (\(version2ByteCount) before routing, \(version1ByteCount) before 1-hour cache writes), found \(bytes.count)", key: key)
        }
        var values: [Int64] = []
        values.reserveCapacity(fieldCount)
        for start in stride(from: 0, to: bytes.count, by: 8) {
            var bits: UInt64 = 0
            for index in (start..<start + 8).reversed() { bits = bits << 8 | UInt64(bytes[index]) }
            values.append(Int64(bitPattern: bits))
        }
        var counters = UsageCounters()
        counters.requests = values[0]
        counters.tokens = TokenUsage(input: values[1], cachedInput: values[2], cacheWrite: values[3],
                                     cacheWrite1h: values.count > 11 ? values[11] : 0, output: values[4], reasoning: values[5])
        counters.cost = Nanodollars(values[6])
        counters.errors = values[7]
        counters.blocked = values[8]
        counters.estimated = values[9]
        counters.unpriced = values[10]
        if values.count > 13 {
            counters.routed = values[12]
            counters.routingSavings = Nanodollars(values[13])
        }
        return counters
    }
}

extension Dimensions {
    static let storedFieldCount = 13
    /// Keys written before served and requested model were dimensions (format 1) end after
    /// the host; they are still read, with both empty.
    static let legacyStoredFieldCount = 11

    /// Where `dimension` sits in `storedFields` (and in a `RawCell`'s dimensions).
    static func storedIndex(of dimension: UsageDimension) -> Int {
        switch dimension {
        case .key: 0
        case .provider: 2
        case .model: 3
        case .endpoint: 4
        case .team: 5
        case .project: 6
        case .user: 7
        case .useCase: 8
        case .environment: 9
        case .host: 10
        case .servedModel: 11
        case .requestedModel: 12
        }
    }

    /// Every field in the fixed on-disk order; also the tie-break order for sorting reports.
    var storedFields: [String] {
        [keyID, keyHint, provider, model, endpoint, team, project, user, useCase, environment, host, servedModel, requestedModel]
    }

    init(storedFields fields: [String]) {
        precondition(fields.count == Self.storedFieldCount || fields.count == Self.legacyStoredFieldCount,
                     "Dimensions has \(Self.storedFieldCount) stored fields")
        self.init()
        keyID = fields[0]
        keyHint = fields[1]
        provider = fields[2]
        model = fields[3]
        endpoint = fields[4]
        team = fields[5]
        project = fields[6]
        user = fields[7]
        useCase = fields[8]
        environment = fields[9]
        host = fields[10]
        if fields.count > Self.legacyStoredFieldCount {
            servedModel = fields[11]
            requestedModel = fields[12]
        }
    }
}
