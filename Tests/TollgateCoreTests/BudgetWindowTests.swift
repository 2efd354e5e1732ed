import Foundation
import Testing
import TollgateCore

@Suite struct BudgetWindowTests {
    static func unix(_ iso: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970)
    }

    static let utc = TimeZone(identifier: "UTC")!
    static let paris = TimeZone(identifier: "Europe/Paris")!

    @Test(arguments: [
        (BudgetPeriod.minute, "2026-11-23T19:04:37Z", "2026-11-23T19:04:00Z", "2026-11-23T19:05:00Z"),
        (.hour, "2026-11-23T19:04:37Z", "2026-11-23T19:00:00Z", "2026-11-23T20:00:00Z"),
        (.day, "2026-11-23T19:04:37Z", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"),
        // 2026-11-23 is a Monday; Sunday the 29th still belongs to its week.
        (.week, "2026-11-29T23:59:59Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"),
        (.week, "2026-11-23T00:00:00Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"),
        // An ISO week across a year end.
        (.week, "2027-01-01T12:00:00Z", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"),
        (.month, "2026-02-28T23:59:59Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        (.month, "2028-02-29T10:00:00Z", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),
        (.month, "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
    ])
    func utcWindowsAreCalendarAligned(period: BudgetPeriod, at: String, start: String, end: String) {
        let window = period.window(containing: Self.unix(at), timeZone: Self.utc)
        #expect(window == BudgetWindow(start: Self.unix(start), end: Self.unix(end)))
    }

    @Test func parisDaysLast23Or25HoursWhenClocksChange() {
        // 2026-03-29: clocks go forward at 02:00 local; 2026-10-25: back at 03:00 local.
        let spring = BudgetPeriod.day.window(containing: Self.unix("2026-03-29T12:00:00Z"), timeZone: Self.paris)
        #expect(spring.start == Self.unix("2026-03-28T23:00:00Z"))
        #expect(spring.end - spring.start == 23 * 3_600)
        let autumn = BudgetPeriod.day.window(containing: Self.unix("2026-10-25T12:00:00Z"), timeZone: Self.paris)
        #expect(autumn.start == Self.unix("2026-10-24T22:00:00Z"))
        #expect(autumn.end - autumn.start == 25 * 3_600)
        let normal = BudgetPeriod.day.window(containing: Self.unix("2026-11-23T23:30:00Z"), timeZone: Self.paris)
        #expect(normal == BudgetWindow(start: Self.unix("2026-11-23T23:00:00Z"), end: Self.unix("2026-11-24T23:00:00Z")))
    }

    @Test func parisWeeksAndMonthsStartAtLocalMidnight() {
        let week = BudgetPeriod.week.window(containing: Self.unix("2026-11-22T23:30:00Z"), timeZone: Self.paris)
        // 23:30 UTC on Sunday is 00:30 on Monday in Paris: a new week.
        #expect(week.start == Self.unix("2026-11-22T23:00:00Z"))
        #expect(week.end == Self.unix("2026-11-29T23:00:00Z"))
        let march = BudgetPeriod.month.window(containing: Self.unix("2026-03-15T00:00:00Z"), timeZone: Self.paris)
        #expect(march.start == Self.unix("2026-02-28T23:00:00Z"))
        #expect(march.end == Self.unix("2026-03-31T22:00:00Z"))  // April starts in summer time
        let hour = BudgetPeriod.hour.window(containing: Self.unix("2026-11-23T10:45:00Z"),
                                            timeZone: TimeZone(identifier: "Asia/Kolkata")!)
        #expect(hour.start == Self.unix("2026-11-23T10:30:00Z"))  // +05:30: local hours start at :30 UTC
    }

    @Test func windowMinutesCoverExactlyTheWindow() {
        let window = BudgetWindow(start: 600, end: 780)
        #expect(window.minutes == 10..<13)
        #expect(window.contains(600) && window.contains(779) && !window.contains(780))
    }
}
