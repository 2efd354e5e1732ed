import Foundation

/// The one grammar for every time a person types, in a CLI flag or an API parameter:
///
/// - a duration back from now: `90s`, `30m`, `24h`, `7d`, `2w`
/// - a duration from now: `+2h`, `+7d`
/// - `now`
/// - a calendar date, meaning its midnight UTC: `2026-11-01` (so `--since 2026-11-01
///   --until 2026-12-01` is November, the way an analyst writes it)
/// - an RFC 3339 timestamp: `2026-11-24T00:00:00Z`, `2026-11-24T09:30:00+01:00`
/// - Unix seconds: `1764028800`
///
/// Results are Unix seconds, bounded to years 1970 to 9999 so that no arithmetic on them
/// can overflow, whatever a caller sends.
public enum TimeExpression {
    /// The latest time accepted: 9999-12-31T23:59:59Z.
    public static let latest: Int64 = 253_402_300_799

    static let unitSeconds: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// Parses `text` relative to `now` (Unix seconds).
    public static func parse(_ text: String, now: Int64) throws(TimeExpressionError) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "now" { return try bounded(now, text) }
        if trimmed.hasPrefix("+") {
            guard let seconds = duration(trimmed.dropFirst()) else { throw TimeExpressionError(text: text) }
            return try bounded(now.addingReportingOverflow(seconds), text)
        }
        if let seconds = duration(Substring(trimmed)) {
            return try bounded(now.subtractingReportingOverflow(seconds), text)
        }
        if trimmed.allSatisfy(\.isASCIIDigit), let unix = Int64(trimmed) {
            return try bounded(unix, text)
        }
        if let days = calendarDate(trimmed) {
            return try bounded(days.multipliedReportingOverflow(by: 86_400), text)
        }
        if let date = rfc3339(trimmed) {
            return try bounded(Int64(date.timeIntervalSince1970.rounded(.down)), text)
        }
        throw TimeExpressionError(text: text)
    }

    /// `30m`, `24h`… as seconds; nil if `text` is not a count and a unit, or is absurdly long.
    static func duration(_ text: Substring) -> Int64? {
        guard let unit = text.last, let scale = unitSeconds[unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let count = Int64(digits) else { return nil }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: scale)
        guard !overflow, seconds <= latest else { return nil }
        return seconds
    }

    /// `2026-11-01` as days since 1970-01-01; nil unless exactly YYYY-MM-DD naming a real day.
    static func calendarDate(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              (1...12).contains(month), day >= 1 else { return nil }
        let date = CivilDate(year: year, month: month, day: day)
        // Day 31 of a 30-day month would roll over; only a day that round-trips is real.
        guard CivilDate(daysSinceEpoch: date.daysSinceEpoch) == date else { return nil }
        return date.daysSinceEpoch
    }

    private static func rfc3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    private static func bounded(_ value: (partialValue: Int64, overflow: Bool), _ text: String) throws(TimeExpressionError) -> Int64 {
        guard !value.overflow else { throw TimeExpressionError(text: text) }
        return try bounded(value.partialValue, text)
    }

    private static func bounded(_ value: Int64, _ text: String) throws(TimeExpressionError) -> Int64 {
        guard value >= 0, value <= latest else { throw TimeExpressionError(text: text, outOfRange: true) }
        return value
    }
}

/// A time nobody can mean; the message lists every form that is accepted.
public struct TimeExpressionError: Error, Equatable, CustomStringConvertible {
    public var text: String
    public var outOfRange = false

    public var description: String {
        let forms = "a duration ago (30m, 24h, 7d), a duration from now (+2h), now, a date (2026-11-01, midnight UTC), an RFC 3339 time (2026-11-24T00:00:00Z) or Unix seconds"
        return outOfRange
            ? "'\(text)' is outside 1970 to 9999; expected \(forms)"
            : "'\(text)' is not a time; expected \(forms)"
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
