import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// A long range is scanned in two parts on two threads: the parts cover exactly the
/// plan's minutes, and the answer is the minute cells' own, for every grouping and series.
@Suite struct QueryPlanPartsTests {
    static let day0 = RollupTests.day0

    @Test func partsCoverThePlanOnce() {
        let state = RollupState(hoursComplete: Self.day0 + 40 * 1_440 + 300, daysComplete: Self.day0 + 40 * 1_440)
        let short = QueryPlan(fromMinute: Self.day0 - 90, toMinute: Self.day0 + 13 * 1_440, state: state, every: nil)
        #expect(short.parts == [short.pieces])
        let long = QueryPlan(fromMinute: Self.day0 - 90, toMinute: Self.day0 + 40 * 1_440 + 310, state: state, every: nil)
        #expect(long.parts.count == 2)
        #expect(long.parts.flatMap { $0 }.map { $0.to - $0.from }.reduce(0, +) == Self.day0 + 40 * 1_440 + 310 - (Self.day0 - 90))
        #expect(long.parts[0].last!.to == long.parts[1].first!.from && long.parts[1].first!.granularity == .day)
        #expect(long.parts[0].last!.to == Self.day0 + 20 * 1_440)
        // An hourly series reads no day cells, and is not split.
        let hourly = QueryPlan(fromMinute: Self.day0, toMinute: Self.day0 + 40 * 1_440, state: state, every: .hour)
        #expect(hourly.parts.count == 1)
    }

    @Test func aSplitQueryIsExact() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 1_818)
            var cells: [Cell] = []
            let store = try UsageStore(directory: directory)
            for seq in 1...30 {
                let batch = (0..<40).map { _ in RollupTests.randomCell(minute: Self.day0 + Int64.random(in: 0..<(40 * 1_440), using: &random), &random) }
                #expect(try store.apply(UsageStoreTests.batch(UInt64(seq), batch)) == .applied)
                cells += batch
            }
            try store.rollUp(now: (Self.day0 + 41 * 1_440) * 60)
            for _ in 0..<12 {
                let from = Self.day0 + Int64.random(in: -600..<(10 * 1_440), using: &random)
                let to = from + Int64.random(in: (15 * 1_440)..<(30 * 1_440), using: &random)
                let by: [TollgateCore.UsageDimension] = [[.team], [.key, .model], []].randomElement(using: &random)!
                for every in [UsageBucket.day, nil] {
                    #expect(try RollupTests.answer(store, from: from, to: to, by: by, every: every)
                            == RollupTests.truth(cells, from: from, to: to, by: by, every: every))
                }
                #expect(try RollupTests.answer(store, from: from, to: to, by: by, team: "web")
                        == RollupTests.truth(cells, from: from, to: to, by: by, team: "web"))
            }
        }
    }
}
