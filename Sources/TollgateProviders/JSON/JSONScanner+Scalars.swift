import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keys, strings and numbers, read on demand from validated values.
extension JSONScanner {
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

    func unescapedString(_ range: Range<Int>) -> String? {
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

    static func hex4(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32 {
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
