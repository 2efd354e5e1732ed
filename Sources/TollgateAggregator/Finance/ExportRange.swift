import TollgateCore

/// The time range of an export, `[from, to)` in Unix seconds. Either end may be a UTC date
/// (`2026-11-01`, its midnight: what finance types) or anything `TimeExpression` reads.
/// An empty range is valid (an export with no rows); one that ends before it starts is not.
public struct ExportRange: Hashable, Sendable {
    public let from: Int64
    public let to: Int64

    public init(from: Int64, to: Int64) throws(FinanceError) {
        guard to >= from else {
            throw .endsBeforeStart(start: CivilDate.rfc3339(minute: from / 60), end: CivilDate.rfc3339(minute: to / 60))
        }
        self.from = from
        self.to = to
    }

    public init(from: String, to: String, now: Int64) throws(FinanceError) {
        try self.init(from: try Self.time(from, parameter: "from", now: now), to: try Self.time(to, parameter: "to", now: now))
    }

    /// The minutes the store is asked for: every minute the range touches.
    var minutes: Range<Int64> {
        func floorDiv(_ value: Int64) -> Int64 { value >= 0 ? value / 60 : (value - 59) / 60 }
        let first = floorDiv(from)
        let last = floorDiv(to + 59)
        return first..<max(first, last)
    }

    /// A UTC date, or a time in the grammar every other flag uses.
    public static func time(_ text: String, parameter: String, now: Int64) throws(FinanceError) -> Int64 {
        let bytes = Array(text.utf8)
        if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") {
            guard let month = try? ReportMonth(parsing: String(decoding: bytes[0..<7], as: UTF8.self)),
                  let day = Int64(String(decoding: bytes[8..<10], as: UTF8.self)), day >= 1, day <= month.days,
                  bytes[8...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .badTime(parameter: parameter, text: text)
            }
            return (CivilDate(year: month.year, month: month.month, day: day).daysSinceEpoch) * 86_400
        }
        do {
            return try TimeExpression.parse(text, now: now)
        } catch {
            throw .badTime(parameter: parameter, text: text)
        }
    }
}
