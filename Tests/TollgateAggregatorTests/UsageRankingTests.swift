import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// `top=N`: the N costliest groups of each bucket, then one row folding the rest, so the
/// totals of a ranked answer equal those of the full one.
@Suite struct UsageRankingTests {
    static func row(_ team: String, cost: Int64, bucket: String? = nil, requests: Int64 = 1) -> UsageRow {
        var counters = UsageCounters()
        counters.cost = Nanodollars(cost)
        counters.requests = requests
        counters.tokens = TokenUsage(input: cost * 2, output: cost)
        return UsageRow(dimensions: [.team: team], keyHint: nil, counters: counters, bucket: bucket)
    }

    @Test func sortsByCostThenName() {
        let rows = [Self.row("b", cost: 5), Self.row("a", cost: 5), Self.row("c", cost: 9), Self.row("d", cost: 1)]
        #expect(UsageRanking.rank(rows).map { $0.dimensions[.team] } == ["c", "a", "b", "d"])
    }

    @Test func topKeepsTheCostliestAndFoldsTheRest() {
        let rows = [Self.row("a", cost: 10, requests: 1), Self.row("b", cost: 30, requests: 2), Self.row("c", cost: 20, requests: 4),
                    Self.row("d", cost: 5, requests: 8)]
        let ranked = UsageRanking.rank(rows, top: 2)
        #expect(ranked.map { $0.dimensions[.team] } == ["b", "c", nil])
        let other = ranked.last!
        #expect(other.otherGroups == 2 && other.dimensions.isEmpty)
        #expect(other.counters.cost == Nanodollars(15) && other.counters.requests == 9 && other.counters.tokens.input == 30)
        #expect(Self.total(ranked) == Self.total(rows))
    }

    @Test func noOtherRowWhenNothingIsCut() {
        let rows = [Self.row("a", cost: 10), Self.row("b", cost: 30)]
        #expect(UsageRanking.rank(rows, top: 2).allSatisfy { $0.otherGroups == nil })
        #expect(UsageRanking.rank(rows, top: 5).count == 2)
        #expect(UsageRanking.rank([], top: 3).isEmpty)
    }

    /// In a series each bucket is ranked on its own: a group can be in one bucket's top and
    /// in another's other row.
    @Test func aSeriesIsRankedPerBucket() {
        let day1 = "2026-11-02T00:00:00Z", day2 = "2026-11-03T00:00:00Z"
        let rows = [Self.row("a", cost: 1, bucket: day2), Self.row("b", cost: 9, bucket: day2), Self.row("c", cost: 4, bucket: day2),
                    Self.row("a", cost: 7, bucket: day1), Self.row("b", cost: 2, bucket: day1)]
        let ranked = UsageRanking.rank(rows, top: 1)
        #expect(ranked.map(\.bucket) == [day1, day1, day2, day2])
        #expect(ranked.map { $0.dimensions[.team] } == ["a", nil, "b", nil])
        #expect(ranked.map(\.otherGroups) == [nil, 1, nil, 2])
        #expect(ranked.map(\.counters.cost.value) == [7, 2, 9, 5])
    }

    /// Random groups over random buckets: whatever N, the ranked rows sum to the same totals,
    /// per bucket and overall, and no bucket has more than N + 1 rows.
    @Test(arguments: [1, 2, 3, 7, 50])
    func rankingNeverChangesATotal(top: Int) {
        var random = SplitMix64(seed: UInt64(top))
        let buckets = ["2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"]
        let rows = (0..<40).map { index in
            Self.row("team-\(index)", cost: Int64(random.next() % 1_000_000), bucket: buckets[Int(random.next() % 3)],
                     requests: Int64(random.next() % 9))
        }
        let ranked = UsageRanking.rank(rows, top: top)
        #expect(Self.total(ranked) == Self.total(rows))
        for bucket in buckets {
            let full = rows.filter { $0.bucket == bucket }, cut = ranked.filter { $0.bucket == bucket }
            #expect(Self.total(cut) == Self.total(full))
            #expect(cut.count <= top + 1)
            let kept = cut.filter { $0.otherGroups == nil }.map(\.counters.cost)
            let cheapestKept = kept.min() ?? .zero
            let bestCut = full.map(\.counters.cost).sorted(by: >).dropFirst(kept.count).first ?? .zero
            #expect(cheapestKept >= bestCut)
        }
    }

    static func total(_ rows: [UsageRow]) -> UsageCounters {
        var sum = UsageCounters()
        for row in rows { sum.add(row.counters) }
        return sum
    }
}
