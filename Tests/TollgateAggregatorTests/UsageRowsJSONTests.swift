import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// The usage API's hand-written encoder gives the bytes Foundation's `JSONEncoder`
/// (`.sortedKeys`) gives, for rows with every optional field present or absent, strings
/// that need escaping, and integers at their limits.
@Suite struct UsageRowsJSONTests {
    static func foundation(_ rows: [UsageRow]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(rows), as: UTF8.self)
    }

    static let strings = ["", "team-a", "a\"quoted\"\\back/slash", "tab\tnew\nline\rcr\u{8}\u{C}", "\u{1}\u{1F}\u{7F}",
                          "ünïcødé 模型 🚀", "models/gemini-2.5-pro", "<&>'"]
    static let integers: [Int64] = [0, 1, -1, 9, 10, 999_999_999, 1_000_000_000, -1_234_567_891, .max, .min]

    @Test func matchesFoundationsEncoder() throws {
        var random = SplitMix64(seed: 18)
        var rows: [UsageRow] = []
        for _ in 0..<400 {
            func string() -> String { Self.strings[Int(random.next() % UInt64(Self.strings.count))] }
            func integer() -> Int64 {
                random.next() % 3 == 0 ? Self.integers[Int(random.next() % UInt64(Self.integers.count))] : Int64(random.next() % 5_000_000_000)
            }
            func maybe() -> Bool { random.next() % 2 == 0 }
            var dimensions: [UsageDimension: String] = [:]
            for dimension in UsageDimension.allCases where random.next() % 4 == 0 { dimensions[dimension] = string() }
            var counters = UsageCounters()
            counters.requests = integer()
            counters.tokens = TokenUsage(input: integer(), cachedInput: integer(), cacheWrite: integer(), cacheWrite1h: integer(),
                                         output: integer(), reasoning: integer())
            counters.errors = integer()
            counters.blocked = integer()
            counters.estimated = integer()
            counters.unpriced = integer()
            counters.cost = Nanodollars(integer())
            counters.routed = integer()
            counters.routingSavings = Nanodollars(integer())
            var row = UsageRow(dimensions: dimensions, keyHint: maybe() ? string() : nil, counters: counters,
                               bucket: maybe() ? "2026-12-06T19:00:00Z" : nil, otherGroups: maybe() ? Int(integer() % 100_000) : nil)
            row.keyName = maybe() ? string() : nil
            row.tier = maybe() ? string() : nil
            rows.append(row)
        }
        #expect(UsageRowsJSON.encode([]) == (try Self.foundation([])))
        for row in rows { #expect(UsageRowsJSON.encode([row]) == (try Self.foundation([row]))) }
        #expect(UsageRowsJSON.encode(rows) == (try Self.foundation(rows)))
    }

    @Test func decodesBackToTheSameRows() throws {
        var counters = UsageCounters()
        counters.requests = 3
        counters.cost = Nanodollars(1_234_567_891)
        var row = UsageRow(dimensions: [.team: "a/b", .model: "gpt-4.1"], keyHint: "sk-…abcd", counters: counters)
        row.keyName = "ci \"bot\""
        let decoded = try JSONDecoder().decode([UsageRow].self, from: Data(UsageRowsJSON.encode([row]).utf8))
        #expect(decoded == [row])
    }
}
