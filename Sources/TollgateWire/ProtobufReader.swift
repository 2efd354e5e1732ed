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

/// A cursor over protobuf wire-format bytes (public for tools that read one field of a
/// message without decoding it, like the fleet benchmark's `BudgetStateScan`).
public struct ProtobufReader {
    public enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next field's number and wire type; nil at the end.
    public mutating func nextField() throws(ProtobufError) -> (Int, WireType)? {
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
    public mutating func varint() throws(ProtobufError) -> UInt64 {
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

    public mutating func lengthDelimited() throws(ProtobufError) -> UnsafeRawBufferPointer {
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
    public mutating func skip(field: Int, _ wireType: WireType) throws(ProtobufError) {
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
