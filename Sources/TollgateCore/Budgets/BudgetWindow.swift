import Foundation

/// How long a budget's window is. Windows are calendar-aligned in the budget's time zone:
/// a `day` in Europe/Paris runs from local midnight to local midnight, so it lasts 23 or
/// 25 hours on the days clocks change; a `week` starts on Monday (ISO 8601).
public enum BudgetPeriod: String, CaseIterable, Sendable, Codable {
    case minute, hour, day, week, month

    /// The window that contains `unixSeconds`, in `timeZone`.
    public func window(containing unixSeconds: Int64, timeZone: TimeZone) -> BudgetWindow {
        if self == .minute {
            // Every zone in use today is offset by whole minutes, so minutes align in all of them.
            let start = unixSeconds >= 0 ? unixSeconds / 60 * 60 : (unixSeconds - 59) / 60 * 60
            return BudgetWindow(start: start, end: start + 60)
        }
        let calendar = Self.calendar(timeZone)
        let component: Calendar.Component = switch self {
        case .minute, .hour: .hour
        case .day: .day
        case .week: .weekOfYear
        case .month: .month
        }
        let date = Date(timeIntervalSince1970: TimeInterval(unixSeconds))
        guard let interval = calendar.dateInterval(of: component, for: date) else {
            // Foundation has an answer for every real instant; this keeps the type total.
            let start = unixSeconds - ((unixSeconds % 3_600) + 3_600) % 3_600
            return BudgetWindow(start: start, end: start + 3_600)
        }
        return BudgetWindow(start: Int64(interval.start.timeIntervalSince1970.rounded(.down)),
                            end: Int64(interval.end.timeIntervalSince1970.rounded(.down)))
    }

    public func window(containing date: Date, timeZone: TimeZone) -> BudgetWindow {
        window(containing: Int64(date.timeIntervalSince1970.rounded(.down)), timeZone: timeZone)
    }

    /// Gregorian, ISO weeks (Monday first, week 1 has the year's first Thursday).
    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        return calendar
    }
}

/// One window of a budget: [start, end) in Unix seconds. Spend is counted per window, and
/// a window "resets" only because the next one is a new counter.
public struct BudgetWindow: Hashable, Sendable, Codable {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    public func contains(_ unixSeconds: Int64) -> Bool { start <= unixSeconds && unixSeconds < end }

    /// The minutes (as cells number them) this window covers: [first, last + 1).
    public var minutes: Range<Int64> {
        let first = start >= 0 ? (start + 59) / 60 : start / 60
        let end = end >= 0 ? (end + 59) / 60 : end / 60
        return first..<max(first, end)
    }
}
