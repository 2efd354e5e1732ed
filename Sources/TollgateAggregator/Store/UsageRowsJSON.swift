import TollgateCore

/// Usage rows as the HTTP API sends them: byte for byte what `JSONEncoder` with
/// `.sortedKeys` makes of `[UsageRow]` (`UsageRow.encode(to:)`; `UsageRowsJSONTests` holds
/// the two together), written straight into one buffer.
///
/// Why by hand: answers of 1,400–1,900 rows spent ~11 % of a query's time in Foundation's
/// encoder (boxing every field, sorting every row's keys); here the key order is sorted
/// once and a row is appended field by field (docs/BENCHMARKS.md, "Usage queries").
enum UsageRowsJSON {
    static func encode(_ rows: [UsageRow]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(2 + rows.count * 640)
        out.append(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(row, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// One field of a row, as `UsageRow.encode(to:)` names it.
    private enum Field: Sendable {
        case bucket, tier, keyHint, otherGroups, keyName
        case dimension(UsageDimension)
        case integer(@Sendable (UsageCounters) -> Int64)
        case decimal(@Sendable (UsageCounters) -> String)
    }

    /// Every field a row can have, sorted by name as `.sortedKeys` sorts them, each name
    /// rendered once as `"name":`.
    private static let fields: [(name: [UInt8], field: Field)] = {
        var all: [(String, Field)] = [
            ("bucket", .bucket), ("tier", .tier), ("key_hint", .keyHint), ("other_groups", .otherGroups), ("key_name", .keyName),
            ("requests", .integer { $0.requests }),
            ("input_tokens", .integer { $0.tokens.input }),
            ("cached_input_tokens", .integer { $0.tokens.cachedInput }),
            ("cache_write_tokens", .integer { $0.tokens.cacheWrite }),
            ("cache_write_1h_tokens", .integer { $0.tokens.cacheWrite1h }),
            ("output_tokens", .integer { $0.tokens.output }),
            ("reasoning_tokens", .integer { $0.tokens.reasoning }),
            ("errors", .integer { $0.errors }),
            ("blocked", .integer { $0.blocked }),
            ("estimated", .integer { $0.estimated }),
            ("unpriced", .integer { $0.unpriced }),
            ("cost_nanousd", .integer { $0.cost.value }),
            ("cost_usd", .decimal { $0.cost.decimalUSD }),
            ("routed", .integer { $0.routed }),
            ("routing_savings_nanousd", .integer { $0.routingSavings.value }),
            ("routing_savings_usd", .decimal { $0.routingSavings.decimalUSD }),
        ]
        all += UsageDimension.allCases.map { ($0.rawValue, .dimension($0)) }
        return all.sorted { $0.0 < $1.0 }.map { name, field in
            var rendered: [UInt8] = []
            appendString(name, to: &rendered)
            rendered.append(UInt8(ascii: ":"))
            return (rendered, field)
        }
    }()

    private static func append(_ row: UsageRow, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (name, field) in fields {
            func key() {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(contentsOf: name)
            }
            switch field {
            case .bucket: if let value = row.bucket { key(); appendString(value, to: &out) }
            case .tier: if let value = row.tier { key(); appendString(value, to: &out) }
            case .keyHint: if let value = row.keyHint { key(); appendString(value, to: &out) }
            case .keyName: if let value = row.keyName { key(); appendString(value, to: &out) }
            case .otherGroups: if let value = row.otherGroups { key(); appendInteger(Int64(value), to: &out) }
            case .dimension(let dimension): if let value = row.dimensions[dimension] { key(); appendString(value, to: &out) }
            case .integer(let value): key(); appendInteger(value(row.counters), to: &out)
            case .decimal(let value): key(); appendString(value(row.counters), to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, filled from the end
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: buffer[start...])
        }
    }

    /// A JSON string as Foundation's encoder escapes it: `"`, `\` and `/` backslashed,
    /// control characters as `\b \f \n \r \t` or `\u00xx`, everything else as UTF-8.
    private static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var clean = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[clean..<index]))
                clean = index + 1
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[clean..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
