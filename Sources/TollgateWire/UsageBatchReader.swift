import TollgateCore

/// One cell of an encoded `UsageBatch`, read in place: each dimension is a view of its
/// UTF-8 bytes (already validated) in the buffer being read, valid only during the
/// `UsageBatchReader.forEachCell` call that produced it.
public struct RawCell {
    public var minute: Int64 = 0
    public var dimensions = DimensionBytes()
    public var counters = UsageCounters()

    public var cell: Cell {
        var result = Dimensions()
        func string(_ index: Int) -> String { String(decoding: dimensions[index], as: UTF8.self) }
        result.keyID = string(0)
        result.keyHint = string(1)
        result.provider = string(2)
        result.model = string(3)
        result.endpoint = string(4)
        result.team = string(5)
        result.project = string(6)
        result.user = string(7)
        result.useCase = string(8)
        result.environment = string(9)
        result.host = string(10)
        return Cell(key: CellKey(minute: minute, dimensions: result), counters: counters)
    }
}

/// The UTF-8 bytes of a cell's eleven dimensions, indexed by proto field number minus one,
/// which is also `Dimensions`' stored order (key id, key hint, provider, model, endpoint,
/// team, project, user, use case, environment, host).
///
/// Named fields behind a switch rather than an `InlineArray`: in this compiler an
/// `InlineArray` subscript copied the whole array on every access.
public struct DimensionBytes {
    public static let count = 11
    // Inlinable, so the store's per-cell loop reads a field without a call.
    @usableFromInline var keyID = Self.empty, keyHint = Self.empty, provider = Self.empty, model = Self.empty
    @usableFromInline var endpoint = Self.empty, team = Self.empty, project = Self.empty, user = Self.empty
    @usableFromInline var useCase = Self.empty, environment = Self.empty, host = Self.empty
    @usableFromInline static let empty = UnsafeRawBufferPointer(start: nil, count: 0)

    public init() {}

    /// Each field in stored order: the store's per-cell loop, without a switch per field.
    @inlinable
    public func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        body(keyID); body(keyHint); body(provider); body(model); body(endpoint); body(team)
        body(project); body(user); body(useCase); body(environment); body(host)
    }

    /// The bytes of all fields together.
    @inlinable
    public var totalCount: Int {
        keyID.count + keyHint.count + provider.count + model.count + endpoint.count + team.count
            + project.count + user.count + useCase.count + environment.count + host.count
    }

    @inlinable
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        get {
            switch index {
            case 0: keyID
            case 1: keyHint
            case 2: provider
            case 3: model
            case 4: endpoint
            case 5: team
            case 6: project
            case 7: user
            case 8: useCase
            case 9: environment
            default: host
            }
        }
        set {
            switch index {
            case 0: keyID = newValue
            case 1: keyHint = newValue
            case 2: provider = newValue
            case 3: model = newValue
            case 4: endpoint = newValue
            case 5: team = newValue
            case 6: project = newValue
            case 7: user = newValue
            case 8: useCase = newValue
            case 9: environment = newValue
            default: host = newValue
            }
        }
    }
}

/// Reads the cells of an encoded `UsageBatch` (proto/tollgate.proto) without the
/// generated messages.
///
/// The aggregator reads every cell of every batch; through the generated messages that
/// cost more than committing the cells (a storage object per message, then strings copied
/// into the domain types). `forEachCell` hands out views of the bytes instead, which the
/// store encodes into its keys directly. The reader follows the same protobuf rules as
/// swift-protobuf, and `UsageBatchReaderTests` holds it to that on valid, hand-crafted
/// and corrupted input:
/// - unknown fields are skipped (a newer agent may send more), groups included;
/// - a known field that arrives with another wire type is skipped as unknown;
/// - the last value of a scalar wins, and an embedded message that appears twice is merged;
/// - strings must be UTF-8; truncated input, bad varints and field number 0 are errors.
public enum UsageBatchReader {
    /// The cells as domain values.
    public static func cells(_ bytes: UnsafeRawBufferPointer) throws(ProtobufError) -> [Cell] {
        var cells: [Cell] = []
        try forEachCell(bytes) { cells.append($0.cell) }
        return cells
    }

    /// Calls `body` with every cell in order. When it throws, the cells already handed out
    /// belong to a malformed batch: the caller must drop them all (the store drops the
    /// WriteBatch it was building).
    public static func forEachCell(_ bytes: UnsafeRawBufferPointer, _ body: (RawCell) -> Void) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            if field == 1, wireType == .lengthDelimited {
                var cell = RawCell()
                try readCell(try reader.lengthDelimited(), into: &cell)
                body(cell)
            } else {
                try reader.skip(field: field, wireType)
            }
        }
    }

    private static func readCell(_ bytes: UnsafeRawBufferPointer, into cell: inout RawCell) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .varint): cell.minute = Int64(bitPattern: try reader.varint())
            case (2, .lengthDelimited): try readDimensions(try reader.lengthDelimited(), into: &cell.dimensions)
            case (3, .lengthDelimited): try readCounters(try reader.lengthDelimited(), into: &cell.counters)
            default: try reader.skip(field: field, wireType)
            }
        }
    }

    private static func readDimensions(_ bytes: UnsafeRawBufferPointer,
                                       into dimensions: inout DimensionBytes) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            guard wireType == .lengthDelimited, (1...11).contains(field) else {
                try reader.skip(field: field, wireType)
                continue
            }
            dimensions[field - 1] = try reader.utf8()
        }
    }

    /// Unsigned counters are clamped into Int64 the way `Tollgate_V1_Counters.domainCounters` does.
    private static func readCounters(_ bytes: UnsafeRawBufferPointer, into counters: inout UsageCounters) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            guard wireType == .varint, (1...11).contains(field) else {
                try reader.skip(field: field, wireType)
                continue
            }
            let raw = try reader.varint()
            let value = Int64(clamping: raw)
            switch field {
            case 1: counters.requests = value
            case 2: counters.tokens.input = value
            case 3: counters.tokens.cachedInput = value
            case 4: counters.tokens.cacheWrite = value
            case 5: counters.tokens.output = value
            case 6: counters.tokens.reasoning = value
            case 7: counters.cost = Nanodollars(Int64(bitPattern: raw))
            case 8: counters.errors = value
            case 9: counters.blocked = value
            case 10: counters.estimated = value
            default: counters.unpriced = value
            }
        }
    }
}

/// Why `UsageBatchReader` refused its input.
public enum ProtobufError: Error, Equatable, CustomStringConvertible {
    case truncated
    case malformed(String)
    case invalidUTF8

    public var description: String {
        switch self {
        case .truncated: "the protobuf data ends in the middle of a field"
        case .malformed(let reason): "malformed protobuf: \(reason)"
        case .invalidUTF8: "a protobuf string field is not valid UTF-8"
        }
    }
}

/// A cursor over protobuf wire-format bytes.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next field's number and wire type; nil at the end.
    mutating func nextField() throws(ProtobufError) -> (Int, WireType)? {
        guard offset < bytes.count else { return nil }
        let tag = try varint()
        guard tag <= UInt64(UInt32.max), let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw .malformed("tag \(tag) has no valid wire type or field number")
        }
        let field = Int(tag >> 3)
        guard field > 0 else { throw .malformed("field number 0") }
        return (field, wireType)
    }

    /// Up to ten bytes, seven bits each; bits beyond 64 are dropped, as protobuf does.
    @inline(__always)
    mutating func varint() throws(ProtobufError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw .truncated }
            let byte = bytes[offset]
            offset += 1
            if shift < 64 { value |= UInt64(byte & 0x7F) << shift }
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift >= 70 { throw .malformed("a varint longer than ten bytes") }
        }
    }

    mutating func lengthDelimited() throws(ProtobufError) -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else { throw .truncated }
        let start = offset
        offset += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
    }

    /// A string field's bytes, checked to be UTF-8.
    mutating func utf8() throws(ProtobufError) -> UnsafeRawBufferPointer {
        let bytes = try lengthDelimited()
        guard Self.isValidUTF8(bytes.assumingMemoryBound(to: UInt8.self)) else { throw .invalidUTF8 }
        return bytes
    }

    /// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let raw = UnsafeRawBufferPointer(bytes)
        while index < bytes.count {
            // ASCII eight bytes at a time: most dimension values are nothing else.
            if bytes.count - index >= 8, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
                continue
            }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The allowed range of the second byte depends on the lead byte.
            let length: Int
            var lowest: UInt8 = 0x80
            var highest: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lowest = 0xA0
            case 0xED: length = 3; highest = 0x9F
            case 0xE1...0xEF: length = 3
            case 0xF0: length = 4; lowest = 0x90
            case 0xF4: length = 4; highest = 0x8F
            case 0xF1...0xF3: length = 4
            default: return false
            }
            guard length <= bytes.count - index, (lowest...highest).contains(bytes[index + 1]) else { return false }
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }

    /// Skips a field's value; for a group, everything up to its matching end.
    mutating func skip(field: Int, _ wireType: WireType) throws(ProtobufError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup:
            while true {
                guard let (inner, innerType) = try nextField() else { throw .truncated }
                if innerType == .endGroup {
                    guard inner == field else { throw .malformed("group \(field) closed as \(inner)") }
                    return
                }
                try skip(field: inner, innerType)
            }
        case .endGroup: throw .malformed("end of group \(field) without its start")
        }
    }

    private mutating func advance(_ count: Int) throws(ProtobufError) {
        guard count <= bytes.count - offset else { throw .truncated }
        offset += count
    }
}
