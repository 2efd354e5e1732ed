import Testing
import TollgateCore
@testable import TollgateAggregator

/// Months and ranges people type: what parses, and what is refused with what is expected.
@Suite struct FinanceInputTests {
    @Test func monthsParseToTheirUTCBounds() throws {
        let november = try ReportMonth(parsing: "2026-11")
        #expect(november.description == "2026-11" && november.days == 30)
        #expect(CivilDate.rfc3339(minute: november.startMinute) == "2026-11-01T00:00:00Z")
        #expect(CivilDate.rfc3339(minute: november.endMinute) == "2026-12-01T00:00:00Z")
        #expect(try ReportMonth(parsing: "2026-01").previous.description == "2025-12")
        #expect(try ReportMonth(parsing: "2028-02").days == 29)
    }

    @Test(arguments: ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "november", "", "2026-11-01", "1969-12", "２０２６-11"])
    func badMonthsAreRefusedNamingTheForm(_ text: String) {
        #expect(throws: FinanceError.badMonth(text)) { try ReportMonth(parsing: text) }
        #expect(FinanceError.badMonth(text).description.contains("expected YYYY-MM"))
    }

    @Test func rangesTakeDatesAndTimes() throws {
        let range = try ExportRange(from: "2026-11-01", to: "2026-12-01T00:00:00Z", now: 0)
        #expect(range.from == 1_793_491_200 && range.to == 1_796_083_200)
        #expect(try ExportRange(from: "2026-11-01", to: "2026-11-01", now: 0).minutes.isEmpty, "an empty range is not an error")
    }

    @Test func aRangeThatEndsBeforeItStartsIsRefused() {
        #expect(throws: FinanceError.self) { try ExportRange(from: "2026-12-01", to: "2026-11-01", now: 0) }
        let message = (try? ExportRange(from: "2026-12-01", to: "2026-11-01", now: 0)).map { _ in "" }
            ?? FinanceError.endsBeforeStart(start: "2026-12-01T00:00:00Z", end: "2026-11-01T00:00:00Z").description
        #expect(message.contains("before it starts"))
        #expect(throws: FinanceError.badTime(parameter: "from", text: "2026-02-30")) { try ExportRange(from: "2026-02-30", to: "now", now: 0) }
        #expect(throws: FinanceError.badTime(parameter: "to", text: "tomorrow")) { try ExportRange(from: "1d", to: "tomorrow", now: 100_000) }
    }

    /// A range that does not start on a minute (`--from 2h`) clips the charge period to the second.
    @Test func timestampsAreISO8601UTC() {
        #expect(FocusRows.timestamp(1_793_491_200) == "2026-11-01T00:00:00Z")
        #expect(FocusRows.timestamp(1_793_491_200 + 3_600 + 65) == "2026-11-01T01:01:05Z")
        #expect(FocusRows.timestamp(1_793_491_200 + 59) == "2026-11-01T00:00:59Z")
    }

    @Test func csvQuotesOnlyWhatNeedsIt() {
        var writer = CSVWriter()
        writer.append(["plain", "a,b", #"say "hi""#, "line\nbreak", nil, "", #"{"team":"ml"}"#])
        #expect(writer.text == "plain,\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",,,\"{\"\"team\"\":\"\"ml\"\"}\"\r\n")
    }
}
