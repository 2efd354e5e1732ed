import TollgateCore

/// The on-disk layout of usage cells and agent sequence numbers.
///
/// Key spaces, by first byte:
/// - `"a"` + agent ID (UTF-8) → the agent's last applied batch seq, UInt64 little-endian.
/// - `"c"` + minute + dimensions → `UsageCounters`.
///
/// The minute is stored big-endian with its sign bit flipped so RocksDB's bytewise order
/// is time order (negative minutes included), which makes a time range one contiguous scan.
/// Changing any of this changes the meaning of existing data directories.
enum CellKeyCodec {
    static let cellPrefix = UInt8(ascii: "c")
    static let agentPrefix = UInt8(ascii: "a")

    static func encode(_ key: CellKey) -> [UInt8] {
        var bytes = minutePrefix(key.minute)
        let fields = key.dimensions.storedFields
        bytes.reserveCapacity(bytes.count + fields.reduce(0) { $0 + 2 + $1.utf8.count })
        for field in fields {
            let utf8 = field.utf8
            guard utf8.count > Int(UInt16.max) else {
                bytes.append(UInt8(utf8.count >> 8))
                bytes.append(UInt8(utf8.count & 0xff))
                bytes.append(contentsOf: utf8)
                continue
            }
            // Longer values are cut (at a character boundary) rather than failing ingest: a
            // rejected batch would be resent forever. No real dimension value is 64 KiB.
            let long = Array(utf8)
            var length = Int(UInt16.max)
            while long[length] & 0xC0 == 0x80 { length -= 1 }
            bytes.append(UInt8(length >> 8))
            bytes.append(UInt8(length & 0xff))
            bytes.append(contentsOf: long[..<length])
        }
        return bytes
    }

    /// The first key any cell of `minute` can have: a scan bound for time ranges.
    static func minutePrefix(_ minute: Int64) -> [UInt8] {
        let ordered = UInt64(bitPattern: minute) ^ (1 << 63)
        var bytes = [cellPrefix]
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: ordered >> UInt64(shift)))
        }
        return bytes
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

/// `UsageCounters` as 11 little-endian Int64s in a fixed order; fixed width so a wrong
/// length is a certain sign of corruption or a format change.
enum CountersCodec {
    static let fieldCount = 11
    static let byteCount = fieldCount * 8

    static func encode(_ counters: UsageCounters) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount)
        for field in fields(of: counters) {
            let bits = UInt64(bitPattern: field)
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
            }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8], key: [UInt8] = []) throws -> UsageCounters {
        guard bytes.count == byteCount else {
            throw StoreError.corruptValue(reason: "counters are \(byteCount) bytes, found \(bytes.count)", key: key)
        }
        var values: [Int64] = []
        values.reserveCapacity(fieldCount)
        for start in stride(from: 0, to: byteCount, by: 8) {
            var bits: UInt64 = 0
            for index in (start..<start + 8).reversed() { bits = bits << 8 | UInt64(bytes[index]) }
            values.append(Int64(bitPattern: bits))
        }
        var counters = UsageCounters()
        counters.requests = values[0]
        counters.tokens = TokenUsage(input: values[1], cachedInput: values[2], cacheWrite: values[3],
                                     output: values[4], reasoning: values[5])
        counters.cost = Nanodollars(values[6])
        counters.errors = values[7]
        counters.blocked = values[8]
        counters.estimated = values[9]
        counters.unpriced = values[10]
        return counters
    }

    private static func fields(of counters: UsageCounters) -> [Int64] {
        [counters.requests, counters.tokens.input, counters.tokens.cachedInput, counters.tokens.cacheWrite,
         counters.tokens.output, counters.tokens.reasoning, counters.cost.value,
         counters.errors, counters.blocked, counters.estimated, counters.unpriced]
    }
}

extension Dimensions {
    static let storedFieldCount = 11

    /// Every field in the fixed on-disk order; also the tie-break order for sorting reports.
    var storedFields: [String] {
        [keyID, keyHint, provider, model, endpoint, team, project, user, useCase, environment, host]
    }

    init(storedFields fields: [String]) {
        precondition(fields.count == Self.storedFieldCount, "Dimensions has \(Self.storedFieldCount) stored fields")
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
    }
}
