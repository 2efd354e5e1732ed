import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Day cells are written once, as values, when their day completes: a late minute of the
/// open day (its hour complete already) waits in the accumulator's day sums, not in the
/// day cell, and a restart reads the open day's sums back from its hour cells. Checked
/// against the minute cells, across a reopen, and for late minutes after the day is done.
@Suite struct RollupOpenDayTests {
    static let day0 = RollupTests.day0

    /// Every stored hour and day cell equals the sum of its minute cells, and there is no
    /// day cell from `openDay` on.
    static func expectRollupsMatchMinutes(_ store: UsageStore, openDay: Int64) throws {
        var expected: [CellGranularity: [[UInt8]: UsageCounters]] = [:]
        let hoursComplete = store.rollup.withLockedValue { $0.hoursComplete }
        try store.db.snapshot().scan(from: CellGranularity.minute.prefix(at: .min), to: CellGranularity.minute.end) { key, value in
            let minute = CellFolder.time(of: key)
            let counters = try CountersCodec.decode(Array(value))
            for granularity in [CellGranularity.hour, .day] {
                let start = granularity.start(ofMinute: minute)
                guard granularity == .hour ? minute < hoursComplete : start < openDay else { continue }
                expected[granularity, default: [:]][granularity.prefix(at: start) + Array(key[9...]), default: UsageCounters()].add(counters)
            }
        }
        for granularity in [CellGranularity.hour, .day] {
            var stored: [[UInt8]: UsageCounters] = [:]
            try store.db.snapshot().scan(from: granularity.prefix(at: .min), to: granularity.end) { key, value in
                stored[Array(key)] = try CountersCodec.decode(Array(value))
            }
            #expect(stored == expected[granularity] ?? [:], "\(granularity.label) cells")
        }
    }

    @Test func lateMinutesOfTheOpenDayReachItsDayCellOnce() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 21)
            var cells: [Cell] = []
            var seq: UInt64 = 0
            func apply(_ store: UsageStore, minutes: ClosedRange<Int64>, count: Int = 40) throws {
                seq += 1
                let batch = (0..<count).map { _ in RollupTests.randomCell(minute: Self.day0 + Int64.random(in: minutes, using: &random), &random) }
                #expect(try store.apply(UsageStoreTests.batch(seq, batch)) == .applied)
                cells += batch
            }
            func expectAnswers(_ store: UsageStore) throws {
                for every in [UsageBucket.day, .hour, nil] {
                    #expect(try RollupTests.answer(store, from: Self.day0 - 1_440, to: Self.day0 + 3 * 1_440, by: [.team, .model], every: every)
                            == RollupTests.truth(cells, from: Self.day0 - 1_440, to: Self.day0 + 3 * 1_440, by: [.team, .model], every: every))
                }
            }
            do {
                let store = try UsageStore(directory: directory)
                try apply(store, minutes: 0...(10 * 60))
                try store.rollUp(now: (Self.day0 + 12 * 60) * 60)
                // Late minutes of complete hours of the open day: hour cells now, day cell later.
                try apply(store, minutes: 0...(6 * 60))
                try store.rollUp(now: (Self.day0 + 13 * 60) * 60)
                try Self.expectRollupsMatchMinutes(store, openDay: Self.day0)
                try expectAnswers(store)
                store.close()
            }
            do {
                // The accumulator is gone; the open day's complete hours come back from the hour cells.
                let store = try UsageStore(directory: directory)
                try Self.expectRollupsMatchMinutes(store, openDay: Self.day0)
                try apply(store, minutes: 60...(7 * 60))
                try apply(store, minutes: (12 * 60)...(23 * 60 + 59))
                try store.rollUp(now: (Self.day0 + 14 * 60) * 60)
                try apply(store, minutes: 0...(13 * 60))
                let done = try store.rollUp(now: (Self.day0 + 1_440 + 60) * 60)
                #expect(done.daysCompleteBefore == Self.day0 + 1_440 && done.dayCellsWritten > 0)
                try Self.expectRollupsMatchMinutes(store, openDay: Self.day0 + 1_440)
                // A late minute of the complete day merges on top of its day cell.
                try apply(store, minutes: 0...(23 * 60), count: 10)
                try Self.expectRollupsMatchMinutes(store, openDay: Self.day0 + 1_440)
                try expectAnswers(store)
                store.close()
            }
            let store = try UsageStore(directory: directory)
            try Self.expectRollupsMatchMinutes(store, openDay: Self.day0 + 1_440)
            try expectAnswers(store)
        }
    }
}
