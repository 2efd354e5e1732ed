import Foundation
import Testing
import TollgateCore
@testable import TollgateAggregator

/// The comparison as a pure function: rows, statuses, differences and key buckets.
@Suite struct ReconciliationTests {
    static let day: Int64 = 1_764_892_800  // 2025-12-05
    static let keyA = String(repeating: "a", count: 32)
    static let keyB = String(repeating: "b", count: 32)

    static func usage(_ model: String = "gpt-4o-mini", key: String? = "key_1", input: Int64 = 1_000, cached: Int64 = 200,
                      output: Int64 = 300, day: Int64 = day) -> ProviderReport.Usage {
        ProviderReport.Usage(day: day, model: model, providerKeyID: key, tokens: TokenUsage(input: input, cachedInput: cached, output: output), requests: 4)
    }

    static func metered(_ model: String = "gpt-4o-mini", key: String = keyA, hint: String = "sk-…aaaa", input: Int64 = 1_000, cached: Int64 = 200,
                        output: Int64 = 300, cost: Int64 = 50_000_000, day: Int64 = day) -> Reconciliation.Metered {
        var counters = UsageCounters()
        counters.requests = 4
        counters.tokens = TokenUsage(input: input, cachedInput: cached, output: output)
        counters.cost = Nanodollars(cost)
        return Reconciliation.Metered(day: day, model: model, keyID: key, keyHint: hint, counters: counters)
    }

    static func report(_ usage: [ProviderReport.Usage], costs: [ProviderReport.Cost]) -> ProviderReport {
        var report = ProviderReport(provider: .openai, reportedClasses: OpenAIAdminReport.reportedClasses)
        report.usage = usage
        report.costs = costs
        return report
    }

    @Test func equalNumbersMatch() {
        let comparison = Reconciliation(report: Self.report([Self.usage()], costs: [.init(day: Self.day, model: "gpt-4o-mini", amount: Nanodollars(50_000_000))]),
                                        metered: [Self.metered()], keyMap: [:], tolerance: .default)
        let rows = comparison.rows().rows
        #expect(rows.count == 1)
        #expect(rows[0].status == .match && rows[0].day == "2025-12-05" && rows[0].key == "" && rows[0].keyMatch == .unmapped)
        #expect(rows[0].costDifference == .zero && rows[0].tokenDifference == 0 && rows[0].providerKeyIDs == ["key_1"])
        #expect(rows[0].providerTokens[.cacheWrite] == nil, "OpenAI reports no cache writes: not compared")
    }

    @Test func aDisagreementIsReportedWithItsDifference() {
        // The provider billed 100 more output tokens and $0.20 more than Tollgate metered.
        let comparison = Reconciliation(
            report: Self.report([Self.usage(output: 400)], costs: [.init(day: Self.day, model: "gpt-4o-mini", amount: Nanodollars(250_000_000))]),
            metered: [Self.metered()], keyMap: [:], tolerance: .default)
        let row = comparison.rows().rows[0]
        #expect(row.status == .differs)
        #expect(row.costDifference == Nanodollars(-200_000_000))
        #expect(row.costDifferenceBasisPoints == -8_000)
        #expect(row.tokenDifference == -100)
        #expect(row.reasons == ["output_tokens 300 vs 400", "cost 0.050000000 vs 0.250000000 USD"])
    }

    @Test func withinTheToleranceIsAMatch() {
        // 0.5 % more output and half a cent more cost: within 1 % / $0.01.
        let comparison = Reconciliation(
            report: Self.report([Self.usage(output: 1_000)], costs: [.init(day: Self.day, model: "gpt-4o-mini", amount: Nanodollars(55_000_000))]),
            metered: [Self.metered(output: 1_005)], keyMap: [:], tolerance: .default)
        #expect(comparison.rows().rows[0].status == .match)
        let strict = Reconciliation(report: comparison.report, metered: comparison.metered, keyMap: [:],
                                    tolerance: ReconcileTolerance(basisPoints: 10, costSlack: 0))
        #expect(strict.rows().rows[0].status == .differs)
    }

    @Test func missingOnEitherSide() {
        let yesterday = Self.day - 86_400
        let comparison = Reconciliation(
            report: Self.report([Self.usage(day: yesterday)], costs: [.init(day: yesterday, model: "gpt-4o-mini", amount: Nanodollars(7))]),
            metered: [Self.metered("gpt-4.1")], keyMap: [:], tolerance: .default)
        let rows = comparison.rows().rows
        #expect(rows.map(\.status) == [.missingInTollgate, .missingAtProvider])
        #expect(rows[0].day == "2025-12-04" && rows[0].providerCost == Nanodollars(7))
        #expect(rows[1].model == "gpt-4.1" && rows[1].providerCost == .zero)
    }

    @Test func mappedKeysGetRowsOfTheirOwnAndTheDayTotalComparesTheCost() {
        let comparison = Reconciliation(
            report: Self.report([Self.usage(key: "key_1"), Self.usage(key: "key_2", output: 900)],
                                costs: [.init(day: Self.day, model: "gpt-4o-mini", amount: Nanodollars(100_000_000))]),
            metered: [Self.metered(key: Self.keyA), Self.metered(key: Self.keyB, hint: "sk-…bbbb", cost: 50_000_000)],
            keyMap: ["key_1": Self.keyA, "key_2": "…bbbb"], tolerance: .default)
        let rows = comparison.rows().rows
        #expect(rows.map(\.key) == [Self.keyA, Self.keyB, "*"])
        #expect(rows.map(\.keyMatch) == [.mapped, .hint, .allKeys])
        #expect(rows[0].status == .match && rows[0].providerCost == nil)
        #expect(rows[1].status == .differs && rows[1].reasons == ["output_tokens 300 vs 900"])
        #expect(rows[2].providerCost == Nanodollars(100_000_000) && rows[2].tollgateCost == Nanodollars(100_000_000))
        #expect(rows[2].status == .differs, "the total carries key 2's output difference")
        #expect(rows[2].providerKeyIDs == ["key_1", "key_2"])
    }

    @Test func anAmbiguousHintOrUnknownIdStaysUnmappedAndIsReported() {
        let comparison = Reconciliation(
            report: Self.report([Self.usage(key: "key_1"), Self.usage(key: "key_2")],
                                costs: [.init(day: Self.day, model: "gpt-4o-mini", amount: Nanodollars(100_000_000))]),
            metered: [Self.metered(key: Self.keyA, hint: "sk-…1234"), Self.metered(key: Self.keyB, hint: "sk-…1234")],
            keyMap: ["key_1": "…1234", "key_2": "cccccccc"], tolerance: .default)
        let (rows, unresolved) = comparison.rows()
        #expect(rows.count == 1 && rows[0].key == "" && rows[0].keyMatch == .unmapped)
        #expect(rows[0].status == .match, "both keys' usage compared together: \(rows[0].reasons)")
        #expect(unresolved.count == 2)
        #expect(unresolved[0].contains("2 Tollgate keys end that way"))
    }

    @Test func aKeyIDPrefixMapsWhenUnique() {
        let matcher = KeyMatcher(map: ["key_1": String(Self.keyA.prefix(8))], seen: [Self.keyA: "sk-…aaaa", Self.keyB: "sk-…bbbb"])
        #expect(matcher.resolve(providerKeyID: "key_1") == .init(keyID: Self.keyA, match: .mapped))
        #expect(matcher.resolve(providerKeyID: "key_9") == nil)
    }

    @Test(arguments: [("gpt-4o-mini-2024-07-18", "gpt-4o-mini"), ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
                      ("gpt-4.1", "gpt-4.1"), ("o4-mini", "o4-mini"), ("text-embedding-3-small", "text-embedding-3-small")])
    func snapshotsAndCanonicalIDsCompareAlike(_ served: String, _ canonical: String) {
        #expect(ReconcileModel.normalise(served) == canonical)
    }

    @Test func percentagesAndAmountsParseExactly() {
        #expect(ReconcileTolerance.basisPoints(percent: "1") == 100)
        #expect(ReconcileTolerance.basisPoints(percent: "0.5") == 50)
        #expect(ReconcileTolerance.basisPoints(percent: "2.25") == 225)
        #expect(ReconcileTolerance.basisPoints(percent: "-1") == nil)
        #expect(ReconcileTolerance.basisPoints(percent: "1.234") == nil)
        #expect(ReconcileTolerance.basisPoints(percent: "lots") == nil)
        #expect(AdminAmount.nanodollars(decimal: "0.06", unitsPerDollar: 1) == Nanodollars(60_000_000))
        #expect(AdminAmount.nanodollars(decimal: "1.5e-05", unitsPerDollar: 1) == Nanodollars(15_000))
        #expect(AdminAmount.nanodollars(decimal: "123.78912", unitsPerDollar: 100) == Nanodollars(1_237_891_200))
        #expect(AdminAmount.nanodollars(decimal: "0.00000000049", unitsPerDollar: 1) == .zero)
        #expect(AdminAmount.nanodollars(decimal: "0.0000000005", unitsPerDollar: 1) == Nanodollars(1))
        #expect(AdminAmount.nanodollars(decimal: "12,5", unitsPerDollar: 1) == nil)
        #expect(AdminAmount.nanodollars(decimal: "", unitsPerDollar: 1) == nil)
    }
}
