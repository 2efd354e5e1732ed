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

    private func validateValue(at index: inout Int, depth: Int) -> JSONSpan? {
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
    private func validateContainer(at index: inout Int, closer: UInt8, kind: JSONSpan.Kind,
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
    private func validateString(at index: inout Int) -> Bool {
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
    private func utf8SequenceLength(at index: Int) -> Int? {
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

    private func validateNumber(at index: inout Int) -> Bool {
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
    private func skipDigits(at index: inout Int) -> Bool {
        let start = index
        while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        return index > start
    }

    private func matchLiteral(_ literal: StaticString, at index: inout Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        index += count
        return matches
    }

    private func skipWhitespace(from start: Int) -> Int {
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

    // MARK: Structure (on validated values only)

    /// The members of an object span, in order.
    func members(of object: JSONSpan) -> [JSONMember] {
        var members: [JSONMember] = []
        members.reserveCapacity(8)  // most objects a meter reads are small: one allocation
        var index = skipWhitespace(from: object.range.lowerBound + 1)
        while index < object.range.upperBound, bytes[index] == UInt8(ascii: "\"") {
            let keyStart = index + 1
            var hasEscapes = false
            index = endOfString(from: index, hasEscapes: &hasEscapes)
            let key = keyStart..<(index - 1)
            index = skipWhitespace(from: skipWhitespace(from: index) + 1)  // past the colon
            let value = span(at: index)
            members.append(JSONMember(key: key, keyHasEscapes: hasEscapes, value: value))
            index = skipWhitespace(from: value.range.upperBound)
            if bytes[index] == UInt8(ascii: ",") { index = skipWhitespace(from: index + 1) }
        }
        return members
    }

    /// The elements of an array span, in order.
    func elements(of array: JSONSpan) -> [JSONSpan] {
        var elements: [JSONSpan] = []
        elements.reserveCapacity(4)
        var index = skipWhitespace(from: array.range.lowerBound + 1)
        while index < array.range.upperBound - 1 {
            let element = span(at: index)
            elements.append(element)
            index = skipWhitespace(from: element.range.upperBound)
            if bytes[index] == UInt8(ascii: ",") { index = skipWhitespace(from: index + 1) }
        }
        return elements
    }

    /// The value starting at `index` of an already validated document, found by skipping
    /// over it without checking it again.
    private func span(at start: Int) -> JSONSpan {
        var index = start
        let kind: JSONSpan.Kind
        switch bytes[start] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            kind = bytes[start] == UInt8(ascii: "{") ? .object : .array
            var depth = 0
            repeat {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    var ignored = false
                    index = endOfString(from: index, hasEscapes: &ignored)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                index += 1
            } while depth > 0
        case UInt8(ascii: "\""):
            kind = .string
            var ignored = false
            index = endOfString(from: start, hasEscapes: &ignored)
        case UInt8(ascii: "t"): kind = .bool; index += 4
        case UInt8(ascii: "f"): kind = .bool; index += 5
        case UInt8(ascii: "n"): kind = .null; index += 4
        default:
            kind = .number
            while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
        }
        return JSONSpan(kind: kind, range: start..<index)
    }

    /// Just past the closing quote of the string whose opening quote is at `start`.
    ///
    /// Strings are most of a provider's body (generated text), and every level of nesting
    /// skips over them again, so the quote is found with `memchr`: the next quote ends the
    /// string unless a backslash before it escapes something, in which case the search
    /// resumes after that escape.
    private func endOfString(from start: Int, hasEscapes: inout Bool) -> Int {
        let base = bytes.baseAddress!
        var index = start + 1
        while true {
            // A validated document closes every string, so there is a quote ahead.
            let quote = base.distance(to: memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index)!
                .assumingMemoryBound(to: UInt8.self))
            guard let backslash = memchr(base + index, Int32(UInt8(ascii: "\\")), quote - index) else { return quote + 1 }
            hasEscapes = true
            index = base.distance(to: backslash.assumingMemoryBound(to: UInt8.self)) + 2  // past the escaped byte
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
             UInt8(ascii: "e"), UInt8(ascii: "E"): true
        default: false
        }
    }

    // MARK: Scalars

    /// Whether a member's key is `name`, compared as bytes unless the key has escapes.
    func key(_ member: JSONMember, equals name: String) -> Bool {
        if member.keyHasEscapes { return unescapedString(member.key) == name }
        var name = name
        return name.withUTF8 { expected in
            expected.count == member.key.count
                && (expected.isEmpty || memcmp(expected.baseAddress!, bytes.baseAddress! + member.key.lowerBound, expected.count) == 0)
        }
    }

    /// The text of a string span; nil if it is not valid UTF-8 or has a lone surrogate.
    func string(_ span: JSONSpan) -> String? {
        guard span.kind == .string else { return nil }
        return unescapedString((span.range.lowerBound + 1)..<(span.range.upperBound - 1))
    }

    private func unescapedString(_ range: Range<Int>) -> String? {
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        guard raw.contains(UInt8(ascii: "\\")) else { return String(validating: raw, as: UTF8.self) }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            guard raw[index] == UInt8(ascii: "\\") else {
                utf8.append(raw[index])
                index += 1
                continue
            }
            let escape = raw[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hex4(raw, at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u") else { return nil }
                    let low = Self.hex4(raw, at: index + 2)
                    guard (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                UTF8.encode(unicode) { utf8.append($0) }
            default: utf8.append(escape)  // \" \\ \/
            }
        }
        return String(validating: utf8, as: UTF8.self)
    }

    /// Unicode scalars in a string span without building it; nil when it has `\u` escapes
    /// (rare in generated text), which the caller then decodes to count exactly.
    func scalarCount(_ span: JSONSpan) -> Int? {
        guard span.kind == .string else { return nil }
        var count = 0
        var index = span.range.lowerBound + 1
        let end = span.range.upperBound - 1
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                if bytes[index + 1] == UInt8(ascii: "u") { return nil }
                index += 2
                count += 1
            } else {
                // Every scalar has exactly one byte that is not a continuation byte.
                if byte & 0xC0 != 0x80 { count += 1 }
                index += 1
            }
        }
        return count
    }

    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 4 | UInt32(hexValue(raw[index + $1]) ?? 0) }
    }

    /// An integral number span as Int64; nil if it has a fraction or does not fit. Exponent
    /// forms that are whole (`1e3`, `12.0`) are accepted, as Foundation's decoder does.
    func int64(_ span: JSONSpan) -> Int64? {
        guard span.kind == .number else { return nil }
        let raw = UnsafeBufferPointer(rebasing: bytes[span.range])
        var index = 0
        let negative = raw[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var value: Int64 = 0
        while index < raw.count, raw[index] &- UInt8(ascii: "0") < 10 {
            let digit = Int64(raw[index] - UInt8(ascii: "0"))
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        if index == raw.count { return value }
        guard let double = self.double(span), double.rounded() == double, let exact = Int64(exactly: double) else { return nil }
        return exact
    }

    func double(_ span: JSONSpan) -> Double? {
        guard span.kind == .number,
              let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[span.range]), as: UTF8.self)),
              value.isFinite else { return nil }
        return value
    }

    func bool(_ span: JSONSpan) -> Bool? {
        guard span.kind == .bool else { return nil }
        return bytes[span.range.lowerBound] == UInt8(ascii: "t")
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
