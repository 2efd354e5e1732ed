#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one JSON value sits in a byte buffer, and what kind it is; nothing is decoded.
struct JSONSpan: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    var kind: Kind
    /// The value's bytes, from its first byte (`{`, `[`, `"`, a digit…) to just past its last.
    var range: Range<Int>
}

/// An object member found by `JSONScanner.members(of:)`.
struct JSONMember: Sendable {
    /// The key's bytes between its quotes, still escaped.
    var key: Range<Int>
    var keyHasEscapes: Bool
    var value: JSONSpan
}

/// Walks JSON text (RFC 8259, plus the trailing commas Foundation's decoder accepts) as bytes: validates a whole document in one pass without
/// allocating, then lists the members of an object or the elements of an array and reads
/// scalars on demand. This is what lets the meter read the few fields it needs (`usage`,
/// `model`, `max_tokens`) from a large body without building the rest of it, which is
/// most of what a general JSON decoder spends its time on.
struct JSONScanner {
    /// Nesting deeper than this is rejected, as Foundation's decoder does, so hostile input
    /// cannot exhaust the stack.
    static let maxDepth = 512

    let bytes: UnsafeBufferPointer<UInt8>

    // MARK: Validation

    /// The document's root value, or nil if the bytes are not exactly one JSON value
    /// (surrounded by optional whitespace, after an optional UTF-8 byte-order mark).
    func validatedRoot() -> JSONSpan? {
        let bom = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        var index = skipWhitespace(from: bom ? 3 : 0)
        guard let root = validateValue(at: &index, depth: 0) else { return nil }
        index = skipWhitespace(from: index)
        return index == bytes.count ? root : nil
    }

    func validateValue(at index: inout Int, depth: Int) -> JSONSpan? {
        guard index < bytes.count, depth <= Self.maxDepth else { return nil }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"):
            return validateContainer(at: &index, closer: UInt8(ascii: "}"), kind: .object) { index in
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), validateString(at: &index) else { return false }
                index = skipWhitespace(from: index)
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                index = skipWhitespace(from: index + 1)
                return validateValue(at: &index, depth: depth + 1) != nil
            }
        case UInt8(ascii: "["):
            return validateContainer(at: &index, closer: UInt8(ascii: "]"), kind: .array) { index in
                validateValue(at: &index, depth: depth + 1) != nil
            }
        case UInt8(ascii: "\""):
            guard validateString(at: &index) else { return nil }
            return JSONSpan(kind: .string, range: start..<index)
        case UInt8(ascii: "t"):
            guard matchLiteral("true", at: &index) else { return nil }
            return JSONSpan(kind: .bool, range: start..<index)
        case UInt8(ascii: "f"):
            guard matchLiteral("false", at: &index) else { return nil }
            return JSONSpan(kind: .bool, range: start..<index)
        case UInt8(ascii: "n"):
            guard matchLiteral("null", at: &index) else { return nil }
            return JSONSpan(kind: .null, range: start..<index)
        default:
            guard validateNumber(at: &index) else { return nil }
            return JSONSpan(kind: .number, range: start..<index)
        }
    }

    /// An object or array from its opening bracket: `element`s (members or values)
    /// separated by commas, up to `closer`. A trailing comma is accepted because
    /// Foundation's decoder takes one, so a provider's may pass too.
    func validateContainer(at index: inout Int, closer: UInt8, kind: JSONSpan.Kind,
                                   element: (inout Int) -> Bool) -> JSONSpan? {
        let start = index
        index = skipWhitespace(from: index + 1)
        while true {
            if index < bytes.count, bytes[index] == closer {
                index += 1
                return JSONSpan(kind: kind, range: start..<index)
            }
            guard element(&index) else { return nil }
            index = skipWhitespace(from: index)
            guard index < bytes.count else { return nil }
            if bytes[index] == closer { continue }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(from: index + 1)
        }
    }

    /// From the opening quote to just past the closing one: escapes must be valid, the text
    /// must be UTF-8, and no control character may appear unescaped.
    func validateString(at index: inout Int) -> Bool {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return true
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return false }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard index + 6 <= bytes.count, (2..<6).allSatisfy({ Self.hexValue(bytes[index + $0]) != nil }) else { return false }
                    index += 6
                default:
                    return false
                }
            case 0..<0x20:
                return false
            case 0..<0x80:
                index += 1
            default:
                guard let length = utf8SequenceLength(at: index) else { return false }
                index += length
            }
        }
        return false
    }

    /// The length of the well-formed UTF-8 sequence at `index` (Unicode 15, table 3-7), or nil.
    func utf8SequenceLength(at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return nil }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return nil }
        return length
    }

    func validateNumber(at index: inout Int) -> Bool {
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            guard skipDigits(at: &index) else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard skipDigits(at: &index) else { return false }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard skipDigits(at: &index) else { return false }
        }
        return true
    }

    /// One or more digits.
    func skipDigits(at index: inout Int) -> Bool {
        let start = index
        while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        return index > start
    }

    func matchLiteral(_ literal: StaticString, at index: inout Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        index += count
        return matches
    }

    func skipWhitespace(from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return index
            }
        }
        return index
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// One document's bytes, shared by every value and container read from it.
final class JSONDocumentBytes: Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func withScanner<R>(_ body: (JSONScanner) -> R) -> R {
        bytes.withUnsafeBufferPointer { body(JSONScanner(bytes: $0)) }
    }
}
