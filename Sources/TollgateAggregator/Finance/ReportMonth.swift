import TollgateCore

/// A UTC calendar month named `YYYY-MM`: the period a showback report covers.
public struct ReportMonth: Hashable, Sendable, CustomStringConvertible {
    public let year: Int64
    public let month: Int64

    public init(year: Int64, month: Int64) {
        self.year = year
        self.month = month
    }

    /// Strict: four digits, a dash, two digits, a month from 01 to 12 (`2026-11`).
    public init(parsing text: String) throws(FinanceError) {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                guard bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
                value = value * 10 + Int64(bytes[index] - 0x30)
            }
            return value
        }
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"), let year = digits(0..<4), let month = digits(5..<7),
              year >= 1970, (1...12).contains(month) else {
            throw .badMonth(text)
        }
        self.init(year: year, month: month)
    }

    /// The first minute of the month, since the Unix epoch.
    public var startMinute: Int64 { CivilDate(year: year, month: month, day: 1).daysSinceEpoch * 1_440 }
    /// The first minute of the next month.
    public var endMinute: Int64 { next.startMinute }
    public var days: Int64 { (endMinute - startMinute) / 1_440 }

    public var previous: ReportMonth {
        month == 1 ? ReportMonth(year: year - 1, month: 12) : ReportMonth(year: year, month: month - 1)
    }

    public var next: ReportMonth {
        month == 12 ? ReportMonth(year: year + 1, month: 1) : ReportMonth(year: year, month: month + 1)
    }

    public var description: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }
}
