import Testing
import TollgateCore

/// RFC 4180 §2: CRLF after each record; a field with a comma, quote, CR or LF is quoted and
/// its quotes doubled; every other field is written as it is.
@Suite struct CSVTests {
    @Test(arguments: [
        ("ml", "ml"),
        ("", ""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("line\nbreak", "\"line\nbreak\""),
        ("cr\rlf", "\"cr\rlf\""),
        ("crlf\r\nend", "\"crlf\r\nend\""),
        ("\"", "\"\"\"\""),
        ("  spaced  ", "  spaced  "),
        ("équipe", "équipe"),
    ])
    func quotesOnlyWhatNeedsIt(_ value: String, _ expected: String) {
        #expect(CSV.field(value) == expected)
    }

    @Test func aRecordEndsWithCRLF() {
        #expect(CSV.record(["team", "cost_usd"]) == "team,cost_usd\r\n")
        #expect(CSV.record(["a,b", "1"]) == "\"a,b\",1\r\n")
        #expect(CSV.record([]) == "\r\n")
    }
}
