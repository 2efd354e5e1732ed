/// CSV as RFC 4180 defines it, for spreadsheets and finance tools: CRLF after every record,
/// and a field quoted (its quotes doubled) when it holds a comma, a quote, CR or LF. A
/// dimension value is whatever a request's header said, so any of those can occur.
public enum CSV {
    /// One record, with its CRLF.
    public static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    public static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return value }
        return "\"" + String(value.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] }) + "\""
    }
}
