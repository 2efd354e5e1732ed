/// The step of a usage time series: each group is split by the bucket its minutes fall in.
/// Buckets are UTC calendar periods; weeks start on Monday (ISO 8601), months on the 1st.
public enum UsageBucket: String, CaseIterable, Sendable {
    case hour, day, week, month

    /// The first minute (since the Unix epoch) of the bucket holding `minute`.
    public func start(ofMinute minute: Int64) -> Int64 {
        switch self {
        case .hour: return Self.floorDiv(minute, 60) * 60
        case .day: return Self.floorDiv(minute, 1_440) * 1_440
        case .week:
            // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
            let day = Self.floorDiv(minute, 1_440)
            return (day - Self.floorMod(day + 3, 7)) * 1_440
        case .month:
            let civil = CivilDate(daysSinceEpoch: Self.floorDiv(minute, 1_440))
            return CivilDate(year: civil.year, month: civil.month, day: 1).daysSinceEpoch * 1_440
        }
    }

    /// The first minute of the bucket after the one holding `minute`.
    public func end(ofMinute minute: Int64) -> Int64 {
        let start = start(ofMinute: minute)
        switch self {
        case .hour: return start + 60
        case .day: return start + 1_440
        case .week: return start + 7 * 1_440
        case .month:
            let civil = CivilDate(daysSinceEpoch: start / 1_440)
            let next = civil.month == 12 ? CivilDate(year: civil.year + 1, month: 1, day: 1)
                                         : CivilDate(year: civil.year, month: civil.month + 1, day: 1)
            return next.daysSinceEpoch * 1_440
        }
    }

    static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    static func floorMod(_ value: Int64, _ divisor: Int64) -> Int64 {
        value - floorDiv(value, divisor) * divisor
    }
}

/// A proleptic Gregorian date in UTC, converted to and from days since 1970-01-01 without
/// Foundation (Howard Hinnant's `days_from_civil` algorithm), so bucketing is cheap and exact.
public struct CivilDate: Equatable, Sendable {
    public var year: Int64
    public var month: Int64
    public var day: Int64

    public init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = UsageBucket.floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public var daysSinceEpoch: Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = UsageBucket.floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `2026-11-02T00:00:00Z` for a minute since the epoch.
    public static func rfc3339(minute: Int64) -> String {
        let date = CivilDate(daysSinceEpoch: UsageBucket.floorDiv(minute, 1_440))
        let ofDay = minute - date.daysSinceEpoch * 1_440
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(date.year)-\(two(date.month))-\(two(date.day))T\(two(ofDay / 60)):\(two(ofDay % 60)):00Z"
    }
}
