import Foundation

/// Sends a request to another model than the one it names, changing nothing else (a
/// routing policy, issue #20): the provider sees the client's bytes with only the model
/// replaced, so a temperature written `0.70`, key order, escapes and unknown fields all
/// reach it as written.
public enum RequestModelRewrite {
    /// The body with every top-level `"model"` string replaced by `model`; nil when the body
    /// is not a JSON object or has no top-level string `model` (nothing to rewrite).
    ///
    /// Every top-level `model` is replaced, not only the first: parsers disagree on which of
    /// two duplicate keys wins (Foundation takes the first, Python's `json` the last), and
    /// the provider must see the target whichever it reads. Nested `model` keys (a tool's
    /// schema, metadata) are left alone.
    public static func body(_ body: Data, to model: String) -> Data? {
        guard let root = JSONValue(parsing: body)?.object else { return nil }
        var ranges: [Range<Int>] = []
        root.withMembers { scanner, member in
            if member.value.kind == .string, scanner.key(member, equals: "model") { ranges.append(member.value.range) }
        }
        guard !ranges.isEmpty else { return nil }
        // The scanner's offsets count from the body's first byte.
        let bytes = Array(body)
        let replacement = Array(quoted(model).utf8)
        var rewritten = [UInt8]()
        rewritten.reserveCapacity(bytes.count + ranges.count * replacement.count)
        var copied = 0
        for range in ranges {
            rewritten.append(contentsOf: bytes[copied..<range.lowerBound])
            rewritten.append(contentsOf: replacement)
            copied = range.upperBound
        }
        rewritten.append(contentsOf: bytes[copied...])
        return Data(rewritten)
    }

    /// A Gemini request target (`…/models/gemini-2.5-pro:generateContent?alt=sse`) naming
    /// `model` instead; nil when its last path segment is not `MODEL:METHOD`. The query and
    /// everything before the model (a base path, `/v1beta`, Vertex's
    /// `projects/…/publishers/google`) are kept.
    public static func geminiTarget(_ target: String, to model: String) -> String? {
        let pathEnd = target.firstIndex(of: "?") ?? target.endIndex
        let path = target[..<pathEnd]
        guard let slash = path.lastIndex(of: "/") else { return nil }
        let segment = path[path.index(after: slash)...]
        guard let colon = segment.lastIndex(of: ":"), colon > segment.startIndex else { return nil }
        let encoded = model.addingPercentEncoding(withAllowedCharacters: pathSegmentCharacters) ?? model
        return String(target[...slash]) + encoded + String(target[colon...])
    }

    /// RFC 3986 `pchar` less `:` (it separates the model from the method) and `/`.
    private static let pathSegmentCharacters: CharacterSet = {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~!$&'()*+,;=@")
        return allowed
    }()

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
