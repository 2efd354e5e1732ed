/// Writes RFC 4180 CSV: fields joined by commas, lines ended by CRLF, a field quoted when it
/// holds a comma, a double quote, CR or LF (its quotes doubled). `nil` is an empty field,
/// which FOCUS readers take as null; an empty string is written as `""` only if asked.
public struct CSVWriter: Sendable {
    public private(set) var text = ""

    public init() {}

    public mutating func append(_ fields: [String?]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { text.append(",") }
            if let field { text.append(Self.escape(field)) }
        }
        text.append("\r\n")
    }

    public static func escape(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
