import Testing
@testable import TollgateCore

@Suite struct TimeExpressionTests {
    let now: Int64 = 1_764_000_000  // 2025-11-24T16:00:00Z

    @Test(arguments: [
        ("90s", -90), ("30m", -1_800), ("24h", -86_400), ("7d", -604_800), ("2w", -1_209_600),
        ("+2h", 7_200), ("+0m", 0), ("now", 0), (" 24h ", -86_400),
    ] as [(String, Int64)])
    func relative(_ text: String, offset: Int64) throws {
        #expect(try TimeExpression.parse(text, now: now) == now + offset)
    }

    @Test(arguments: [
        ("2026-11-24T00:00:00Z", 1_795_478_400),
        ("2026-11-24T01:00:00+01:00", 1_795_478_400),
        ("2026-11-24T00:00:00.750Z", 1_795_478_400),
        ("1795478400", 1_795_478_400),
        ("0", 0),
        ("2026-11-24", 1_795_478_400),
        ("2024-02-29", 1_709_164_800),
        ("1970-01-01", 0),
    ] as [(String, Int64)])
    func absolute(_ text: String, expected: Int64) throws {
        #expect(try TimeExpression.parse(text, now: now) == expected)
    }

    @Test(arguments: ["", "h", "24x", "-24h", "+h", "+-2h", "yesterday", "2026-13-01T00:00:00Z", "1e9", "24 h",
                      "2026-11-31", "2025-02-29", "2026-1-01", "2026-00-10", "26-11-01"])
    func refusesWhatIsNotATime(_ text: String) {
        #expect(throws: TimeExpressionError(text: text)) { try TimeExpression.parse(text, now: now) }
    }

    /// What once crashed an aggregator: values whose arithmetic overflows Int64.
    @Test(arguments: ["-9223372036854775800", "9223372036854775807", "99999999999999999999", "+9223372036854775807s",
                      "106751991167300d", "253402300800"])
    func refusesWhatCannotBeAnswered(_ text: String) {
        #expect(throws: TimeExpressionError.self) { try TimeExpression.parse(text, now: now) }
    }

    @Test func aDurationBeforeEpochIsOutOfRange() {
        #expect(throws: TimeExpressionError(text: "100w", outOfRange: true)) { try TimeExpression.parse("100w", now: 1_000) }
    }

    @Test func errorListsEveryForm() {
        let message = TimeExpressionError(text: "soon").description
        for form in ["30m", "+2h", "now", "2026-11-01", "RFC 3339", "Unix seconds"] { #expect(message.contains(form)) }
    }
}
