/// JSON built by hand so that keys come out in the order each provider sends them.
///
/// `JSONEncoder` does not promise key order; a mock whose bodies look like the real
/// ones is easier to compare with captured traffic and with the providers' fixtures.
/// The layouts differ by provider too: OpenAI and Anthropic send compact JSON, Gemini
/// pretty-prints whole bodies and writes `"key": value` inside SSE events.
indirect enum OrderedJSON {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case int(Int)
    /// A number already written as JSON (`1.0`, `-0.0123`), so its exact text is chosen by the caller.
    case number(String)
    case bool(Bool)
    case null

    enum Layout {
        /// `{"a":1,"b":[2]}`: OpenAI and Anthropic.
        case compact
        /// `{"a": 1,"b": [2]}`: Gemini's SSE events.
        case spaced
        /// Two-space indentation, one member per line: Gemini's whole-body JSON.
        case indented
    }

    var serialized: String { serialized(.compact) }

    func serialized(_ layout: Layout) -> String {
        var out = ""
        write(to: &out, layout: layout, depth: 0)
        return out
    }

    /// The same value with every object's keys in alphabetical order, as Azure OpenAI sends them.
    var sortingKeys: OrderedJSON {
        switch self {
        case .object(let members):
            .object(members.map { ($0.0, $0.1.sortingKeys) }.sorted { $0.0 < $1.0 })
        case .array(let elements):
            .array(elements.map(\.sortingKeys))
        default:
            self
        }
    }

    private func write(to out: inout String, layout: Layout, depth: Int) {
        switch self {
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                Self.newline(&out, layout: layout, depth: depth + 1)
                Self.writeString(key, to: &out)
                out += layout == .compact ? ":" : ": "
                value.write(to: &out, layout: layout, depth: depth + 1)
            }
            Self.newline(&out, layout: layout, depth: depth)
            out += "}"
        case .array(let elements):
            guard !elements.isEmpty else { out += "[]"; return }
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                Self.newline(&out, layout: layout, depth: depth + 1)
                element.write(to: &out, layout: layout, depth: depth + 1)
            }
            Self.newline(&out, layout: layout, depth: depth)
            out += "]"
        case .string(let text):
            Self.writeString(text, to: &out)
        case .int(let value):
            out += String(value)
        case .number(let text):
            out += text
        case .bool(let value):
            out += value ? "true" : "false"
        case .null:
            out += "null"
        }
    }

    private static func newline(_ out: inout String, layout: Layout, depth: Int) {
        guard layout == .indented else { return }
        out += "\n" + String(repeating: "  ", count: depth)
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension OrderedJSON {
    /// An object without the members whose value is nil: providers omit absent fields
    /// rather than sending null (Gemini omits zero counts the same way).
    static func compacting(_ members: [(String, OrderedJSON?)]) -> OrderedJSON {
        .object(members.compactMap { key, value in value.map { (key, $0) } })
    }

    /// `.int(value)` unless it is zero, for Gemini's "zero-valued fields are omitted".
    static func nonZero(_ value: Int) -> OrderedJSON? {
        value == 0 ? nil : .int(value)
    }
}
