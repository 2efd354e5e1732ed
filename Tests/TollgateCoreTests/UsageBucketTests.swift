import Foundation
import Testing
import TollgateCore

@Suite struct UsageBucketTests {
    /// Minutes since the epoch of a UTC time, through Foundation (an independent calendar).
    static func minute(_ text: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        return Int64(formatter.date(from: text)!.timeIntervalSince1970) / 60
    }

    @Test func bucketsStartOnUTCCalendarBoundaries() {
        let at = Self.minute("2026-11-04T13:37:00Z")  // a Wednesday
        #expect(UsageBucket.hour.start(ofMinute: at) == Self.minute("2026-11-04T13:00:00Z"))
        #expect(UsageBucket.day.start(ofMinute: at) == Self.minute("2026-11-04T00:00:00Z"))
        #expect(UsageBucket.week.start(ofMinute: at) == Self.minute("2026-11-02T00:00:00Z"))
        #expect(UsageBucket.month.start(ofMinute: at) == Self.minute("2026-11-01T00:00:00Z"))
        #expect(UsageBucket.month.end(ofMinute: at) == Self.minute("2026-12-01T00:00:00Z"))
        #expect(UsageBucket.month.end(ofMinute: Self.minute("2026-12-31T23:59:00Z")) == Self.minute("2027-01-01T00:00:00Z"))
        #expect(UsageBucket.week.start(ofMinute: Self.minute("1969-12-31T12:00:00Z")) == Self.minute("1969-12-29T00:00:00Z"))
    }

    @Test func civilDatesRoundTripAgainstFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for day in stride(from: Int64(-800), through: 40_000, by: 37) {
            let date = CivilDate(daysSinceEpoch: day)
            let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(day) * 86_400))
            #expect([date.year, date.month, date.day] == [Int64(parts.year!), Int64(parts.month!), Int64(parts.day!)])
            #expect(date.daysSinceEpoch == day)
        }
    }
}
