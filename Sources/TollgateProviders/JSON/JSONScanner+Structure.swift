#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The members of objects and elements of arrays, read from values `validatedRoot()` accepted.
extension JSONScanner {
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
    func span(at start: Int) -> JSONSpan {
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
    func endOfString(from start: Int, hasEscapes: inout Bool) -> Int {
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

    static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
             UInt8(ascii: "e"), UInt8(ascii: "E"): true
        default: false
        }
    }
}
