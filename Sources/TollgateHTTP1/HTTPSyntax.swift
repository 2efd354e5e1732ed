import NIOCore

/// The byte-level grammar of HTTP/1.1 heads (RFC 9110 and 9112) that the request and
/// response framers share: where a head ends, what a field line is, and the few ways a
/// field's value is read. Everything works on positions in a head's bytes, so nothing
/// becomes a `String` unless the proxy asks for it.
enum HTTPSyntax {
    /// Where a field's name and value are in its head's bytes (the value without the
    /// optional whitespace around it).
    struct Field {
        var name: Range<Int>
        var value: Range<Int>
    }

    /// Fields that describe one connection, not the message; never forwarded.
    static let hopByHopFields = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// The length up to and including the blank line that ends a head, searching from
    /// `offset`; with `bareLF`, the blank line may be a lone LF (responses only; a request
    /// head's lines are then checked for CRLF one by one).
    static func endOfHead(in bytes: UnsafeRawBufferPointer, from offset: Int, bareLF: Bool) -> Int? {
        var index = offset
        while index < bytes.count {
            guard let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            // A line is blank when the previous line ended right before it.
            if bareLF && newline >= 1 && bytes[newline - 1] == UInt8(ascii: "\n") { return newline + 1 }
            if newline >= 2 && bytes[newline - 1] == UInt8(ascii: "\r") && bytes[newline - 2] == UInt8(ascii: "\n") { return newline + 1 }
            index = newline + 1
        }
        return nil
    }

    /// The first value of the field `name` (lowercase) among `fields` of the head `bytes`.
    static func firstValue(of name: String, in fields: [Field], of bytes: ByteBuffer) -> String? {
        bytes.withUnsafeReadableBytes { raw in
            let view = raw.bindMemory(to: UInt8.self)
            guard let field = fields.first(where: { nameEquals(view, $0.name, name) }) else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[field.value]), as: UTF8.self)
        }
    }

    /// `token ":" OWS value OWS`, nil when the line is not one (no colon, an empty or
    /// non-token name, whitespace before the colon, control bytes in the value).
    static func field(_ view: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> Field? {
        guard let colon = view[line].firstIndex(of: UInt8(ascii: ":")), colon > line.lowerBound else { return nil }
        for index in line.lowerBound..<colon where !isTokenByte(view[index]) { return nil }
        var valueStart = colon + 1
        var valueEnd = line.upperBound
        while valueStart < valueEnd && isWhitespace(view[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && isWhitespace(view[valueEnd - 1]) { valueEnd -= 1 }
        for index in valueStart..<valueEnd where view[index] < 0x20 && view[index] != UInt8(ascii: "\t") || view[index] == 0x7F {
            return nil
        }
        return Field(name: line.lowerBound..<colon, value: valueStart..<valueEnd)
    }

    /// A non-negative decimal of at most 18 digits (so it cannot overflow).
    static func decimal(_ view: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for index in range {
            let byte = view[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// ASCII case-insensitive comparison with a lowercase name.
    static func nameEquals(_ view: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: String) -> Bool {
        var name = name
        return name.withUTF8 { expected in
            guard expected.count == range.count else { return false }
            for (offset, index) in range.enumerated() where lowercased(view[index]) != expected[offset] { return false }
            return true
        }
    }

    /// Case-insensitive comparison of two ranges of the same head.
    static func namesEqual(_ view: UnsafeBufferPointer<UInt8>, _ first: Range<Int>, _ second: Range<Int>) -> Bool {
        first.count == second.count && zip(first, second).allSatisfy { lowercased(view[$0]) == lowercased(view[$1]) }
    }

    /// The elements of a comma-separated list, trimmed; empty ones are skipped.
    static func listElements(_ view: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Range<Int>] {
        var elements: [Range<Int>] = []
        var start = range.lowerBound
        while start <= range.upperBound {
            let end = view[start..<range.upperBound].firstIndex(of: UInt8(ascii: ",")) ?? range.upperBound
            let element = trimmed(view, start..<end)
            if !element.isEmpty { elements.append(element) }
            start = end + 1
        }
        return elements
    }

    /// Whether a comma-separated list holds `token` (lowercase).
    static func containsToken(_ view: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ token: String) -> Bool {
        listElements(view, range).contains { nameEquals(view, $0, token) }
    }

    /// Whether the last element of a comma-separated list is `token` (lowercase): a
    /// transfer-encoding's final coding.
    static func lastTokenIs(_ view: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ token: String) -> Bool {
        let lastComma = view[range].lastIndex(of: UInt8(ascii: ",")).map { $0 + 1 } ?? range.lowerBound
        return nameEquals(view, trimmed(view, lastComma..<range.upperBound), token)
    }

    static func trimmed(_ view: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var trimmed = range
        while !trimmed.isEmpty && isWhitespace(view[trimmed.lowerBound]) { trimmed = trimmed.dropFirst() }
        while !trimmed.isEmpty && isWhitespace(view[trimmed.upperBound - 1]) { trimmed = trimmed.dropLast() }
        return trimmed
    }

    static func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
