/// Why a report or an export cannot be answered: each message names what was given and
/// what is expected, so an operator can fix the flag or the parameter at once.
public enum FinanceError: Error, CustomStringConvertible, Equatable {
    case badMonth(String)
    case badTime(parameter: String, text: String)
    case endsBeforeStart(start: String, end: String)
    case missing(String)

    public var description: String {
        switch self {
        case .badMonth(let text):
            "month '\(text)' is not a calendar month; expected YYYY-MM with a month from 01 to 12, e.g. 2026-11"
        case .badTime(let parameter, let text):
            "\(parameter) '\(text)' is not a time; expected a UTC date (2026-11-01), an RFC 3339 time (2026-11-01T00:00:00Z), "
                + "Unix seconds, or a duration ago (7d)"
        case .endsBeforeStart(let start, let end):
            "the range ends (\(end)) before it starts (\(start)); give a 'to' at or after 'from'"
        case .missing(let parameter):
            "\(parameter) is required"
        }
    }
}
