import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Hour and day rollups against the ground truth: the cells that were applied, summed
/// minute by minute in memory. Every query over any range, grouping and series must give
/// the same integers whichever granularities the store reads.
@Suite struct RollupTests {
    static let teams = ["ml", "web", "data"]
    static let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"]
    /// 2026-11-02T00:00Z in minutes.
    static let day0: Int64 = 29_361_600

    static func randomCell(minute: Int64, _ random: inout SplitMix64) -> Cell {
        var cell = UsageStoreTests.cell(minute: minute, key: "k\(Int.random(in: 0..<6, using: &random))",
                                        model: models.randomElement(using: &random)!, requests: Int64.random(in: 1...9, using: &random),
                                        input: Int64.random(in: 1...5_000, using: &random), output: Int64.random(in: 1...900, using: &random),
                                        cost: Int64.random(in: 1...9_000_000, using: &random))
        cell.key.dimensions.team = teams.randomElement(using: &random)!
        return cell
    }

    /// What a query must answer, from the applied cells.
    static func truth(_ cells: [Cell], from: Int64, to: Int64, by: [TollgateCore.UsageDimension], team: String? = nil,
                      every: UsageBucket? = nil) -> [String: UsageCounters] {
        var groups: [String: UsageCounters] = [:]
        for cell in cells where cell.key.minute >= from && cell.key.minute < to {
            if let team, cell.key.dimensions.team != team { continue }
            let bucket = every.map { "\($0.start(ofMinute: cell.key.minute))" } ?? ""
            groups[bucket + "|" + by.map { cell.key.dimensions[$0] }.joined(separator: "|"), default: UsageCounters()].add(cell.counters)
        }
        return groups
    }

    static func answer(_ store: UsageStore, from: Int64, to: Int64, by: [TollgateCore.UsageDimension], team: String? = nil,
                       every: UsageBucket? = nil) throws -> [String: UsageCounters] {
        let filters = team.map { [UsageFilter(.team, $0)] } ?? []
        var groups: [String: UsageCounters] = [:]
        for group in try store.query(fromMinute: from, toMinute: to, groupBy: by, matching: filters, every: every) {
            let bucket = group.bucketStartMinute.map { "\($0)" } ?? ""
            groups[bucket + "|" + by.map { group.dimensions[$0] }.joined(separator: "|")] = group.counters
        }
        return groups
    }

    /// Cells over three days, some hours empty, applied in batches; rollups built part-way,
    /// then late minutes (an agent's spool after an outage) land in hours already built.
    @Test func everyRangeReconcilesWithTheMinuteCells() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 18)
            let store = try UsageStore(directory: directory)
            var cells: [Cell] = []
            var seq: UInt64 = 0
            func apply(_ batch: [Cell]) throws {
                seq += 1
                #expect(try store.apply(UsageStoreTests.batch(seq, batch)) == .applied)
                cells += batch
            }
            for hour in 0..<(3 * 24) where hour % 7 != 3 {
                try apply((0..<12).map { _ in Self.randomCell(minute: Self.day0 + Int64(hour) * 60 + Int64.random(in: 0..<60, using: &random), &random) })
            }
            // Up to 02:00 of the third day, then late minutes all over the first two days.
            let built = try store.rollUp(now: (Self.day0 + 2 * 1_440 + 125) * 60)
            #expect(built.hoursCompleteBefore == Self.day0 + 2 * 1_440 + 120)
            #expect(built.daysCompleteBefore == Self.day0 + 2 * 1_440)
            #expect(built.hoursBuilt == 2 * 24 + 2 - 7 && built.accumulatedGroups > 0)
            for _ in 0..<5 {
                try apply((0..<20).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(3 * 1_440), using: &random), &random) })
            }
            try store.rollUp(now: (Self.day0 + 2 * 1_440 + 20 * 60) * 60)
            try apply((0..<20).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(3 * 1_440), using: &random), &random) })

            let span = 3 * 1_440 + 60
            for trial in 0..<150 {
                let from = Self.day0 - 30 + Int64.random(in: 0..<Int64(span), using: &random)
                let to = from + Int64.random(in: 0...Int64(span), using: &random)
                let by: [TollgateCore.UsageDimension] = [[], [.team], [.key, .model]][trial % 3]
                let team = trial % 4 == 0 ? "ml" : nil
                let every: UsageBucket? = [nil, .hour, .day, nil, .week][trial % 5]
                let expected = Self.truth(cells, from: from, to: to, by: by, team: team, every: every)
                #expect(try Self.answer(store, from: from, to: to, by: by, team: team, every: every) == expected,
                        "[\(from), \(to)) by \(by) team \(team ?? "*") every \(every?.rawValue ?? "-")")
            }
        }
    }

    @Test func rollupsAreReadForLongRanges() throws {
        let state = RollupState(hoursComplete: Self.day0 + 3 * 1_440, daysComplete: Self.day0 + 2 * 1_440)
        let plan = QueryPlan(fromMinute: Self.day0 - 90, toMinute: Self.day0 + 2 * 1_440 + 130, state: state, every: nil)
        #expect(plan.pieces == [
            .init(granularity: .minute, from: Self.day0 - 90, to: Self.day0 - 60),
            .init(granularity: .hour, from: Self.day0 - 60, to: Self.day0),
            .init(granularity: .day, from: Self.day0, to: Self.day0 + 2 * 1_440),
            .init(granularity: .hour, from: Self.day0 + 2 * 1_440, to: Self.day0 + 2 * 1_440 + 120),
            .init(granularity: .minute, from: Self.day0 + 2 * 1_440 + 120, to: Self.day0 + 2 * 1_440 + 130),
        ])
        // A series by hour never reads day cells; nothing past what is complete is read as rollups.
        let hourly = QueryPlan(fromMinute: Self.day0, toMinute: Self.day0 + 4 * 1_440, state: state, every: .hour)
        #expect(hourly.pieces == [.init(granularity: .hour, from: Self.day0, to: Self.day0 + 3 * 1_440),
                                  .init(granularity: .minute, from: Self.day0 + 3 * 1_440, to: Self.day0 + 4 * 1_440)])
    }

    @Test func emptyRangeIsEmptyAndReversedRangeIsRefused() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            _ = try store.apply(UsageStoreTests.batch(1, [UsageStoreTests.cell(minute: Self.day0, key: "k", model: "m")]))
            #expect(try store.query(fromMinute: Self.day0, toMinute: Self.day0, groupBy: [.team]).isEmpty)
            #expect(try store.query(fromMinute: Self.day0 + 1, toMinute: Self.day0 + 500, groupBy: [.team]).isEmpty)
            #expect(throws: UsageRangeError.rangeEndsBeforeStart(fromMinute: Self.day0 + 1, toMinute: Self.day0)) {
                try store.query(fromMinute: Self.day0 + 1, toMinute: Self.day0, groupBy: [])
            }
        }
    }

    /// A data directory from before rollups: the first `rollUp` backfills every hour and day
    /// from the minute cells, records it, and never does it again, across a restart too.
    @Test func backfillRunsOnce() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 7)
            var cells: [Cell] = []
            do {
                let store = try UsageStore(directory: directory)
                for seq in 1...20 {
                    let batch = (0..<10).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(5 * 1_440), using: &random), &random) }
                    _ = try store.apply(UsageStoreTests.batch(UInt64(seq), batch))
                    cells += batch
                }
                store.close()
            }
            let now = (Self.day0 + 6 * 1_440) * 60
            let store = try UsageStore(directory: directory)
            let first = try store.rollUp(now: now)
            #expect(first.daysCompleteBefore == Self.day0 + 5 * 1_440)
            #expect(first.hoursBuilt > 0)
            #expect(try store.rollUp(now: now).hoursBuilt == 0)
            store.close()
            let reopened = try UsageStore(directory: directory)
            #expect(try reopened.rollUp(now: now) == RollupProgress(hoursCompleteBefore: first.hoursCompleteBefore,
                                                                      daysCompleteBefore: first.daysCompleteBefore))
            let plan = QueryPlan(fromMinute: Self.day0, toMinute: Self.day0 + 5 * 1_440, state: reopened.rollup.withLockedValue { $0 }, every: nil)
            #expect(plan.pieces == [.init(granularity: .day, from: Self.day0, to: Self.day0 + 5 * 1_440)])
            #expect(try Self.answer(reopened, from: Self.day0, to: Self.day0 + 5 * 1_440, by: [.team])
                    == Self.truth(cells, from: Self.day0, to: Self.day0 + 5 * 1_440, by: [.team]))
        }
    }

    /// A crash loses the accumulator (hours handed to ingest, not complete yet): the next
    /// start adds those hours' minutes up again from the minute cells. Hour and day cells
    /// past the progress cannot exist (hours are written with it, atomically), but if they
    /// did, they would be dropped on open, not counted.
    @Test func whatACrashLosesIsRebuiltFromTheMinutes() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 99)
            var cells: [Cell] = []
            func check(_ store: UsageStore) throws {
                for every in [UsageBucket.hour, .day, nil] {
                    #expect(try Self.answer(store, from: Self.day0, to: Self.day0 + 2 * 1_440, by: [.key], every: every)
                            == Self.truth(cells, from: Self.day0, to: Self.day0 + 2 * 1_440, by: [.key], every: every))
                }
            }
            do {
                let store = try UsageStore(directory: directory)
                let batch = (0..<30).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(2 * 1_440), using: &random), &random) }
                _ = try store.apply(UsageStoreTests.batch(1, batch))
                cells += batch
                try store.rollUp(now: (Self.day0 + 1_440) * 60)
                // Late minutes (merged into complete hours) and minutes of hours accumulating.
                let more = (0..<30).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(2 * 1_440), using: &random), &random) }
                _ = try store.apply(UsageStoreTests.batch(2, more))
                cells += more
                #expect(try store.rollUp(now: (Self.day0 + 1_440) * 60).accumulatedGroups > 0)
                try check(store)
                let complete = store.rollup.withLockedValue { $0 }
                let stray = WriteBatch()
                let value = CountersCodec.encode(cells[0].counters)
                for (granularity, at) in [(CellGranularity.hour, complete.hoursComplete), (.day, complete.daysComplete + 1_440)] {
                    let key = granularity.prefix(at: at) + Array(CellKeyCodec.encode(cells[0].key).dropFirst(9))
                    key.withUnsafeBytes { key in value.withUnsafeBytes { value in stray.merge(key: key, value: value) } }
                }
                try store.db.write(stray, sync: true)
                store.close()
            }
            let store = try UsageStore(directory: directory)
            try check(store)
            try store.rollUp(now: (Self.day0 + 3 * 1_440) * 60)
            try check(store)
        }
    }

    /// Every stored hour and day cell is the sum of its minute cells: through handover,
    /// completions while batches keep coming (late minutes, batches spanning hours and
    /// days, a repeated cell), a resent batch (a lost ack) that adds nothing, and a reopen.
    @Test func hourAndDayCellsAreTheSumsOfTheirMinutes() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 4)
            var seq: UInt64 = 0
            var batches: [UsageBatchMessage] = []
            do {
                let store = try UsageStore(directory: directory)
                for index in 0..<60 {
                    seq += 1
                    let base = Self.day0 + Int64(index) * 72 + Int64.random(in: -30...30, using: &random)
                    var batch = (0..<25).map { _ in Self.randomCell(minute: base + Int64.random(in: -200...90, using: &random), &random) }
                    batch.append(batch[0])
                    batches.append(UsageStoreTests.batch(seq, batch))
                    #expect(try store.apply(batches.last!) == .applied)
                    if index % 7 == 3 { try store.rollUp(now: base * 60) }
                }
                #expect(try store.apply(batches[17]) == .duplicate(lastSeq: seq))
                #expect(try store.rollUp(now: (Self.day0 + 3 * 1_440) * 60).accumulatedGroups > 0)
                store.close()
            }
            let store = try UsageStore(directory: directory)
            let done = try store.rollUp(now: (Self.day0 + 6 * 1_440) * 60)
            #expect(done.accumulatedGroups == 0 && done.daysCompleteBefore == Self.day0 + 5 * 1_440)
            var expected: [CellGranularity: [[UInt8]: UsageCounters]] = [:]
            try store.db.snapshot().scan(from: CellGranularity.minute.prefix(at: .min), to: CellGranularity.minute.end) { key, value in
                let counters = try CountersCodec.decode(Array(value))
                for granularity in [CellGranularity.hour, .day] {
                    let rolled = granularity.prefix(at: granularity.start(ofMinute: CellFolder.time(of: key))) + Array(key[9...])
                    expected[granularity, default: [:]][rolled, default: UsageCounters()].add(counters)
                }
            }
            for granularity in [CellGranularity.hour, .day] {
                var stored: [[UInt8]: UsageCounters] = [:]
                try store.db.snapshot().scan(from: granularity.prefix(at: .min), to: granularity.end) { key, value in
                    stored[Array(key)] = try CountersCodec.decode(Array(value))
                }
                #expect(stored.count > 0)
                #expect(stored == expected[granularity], "\(granularity.label) cells")
            }
            let cells = batches.flatMap(\.cells)
            #expect(try Self.answer(store, from: Self.day0 - 1_440, to: Self.day0 + 5 * 1_440, by: [.team, .model], every: .day)
                    == Self.truth(cells, from: Self.day0 - 1_440, to: Self.day0 + 5 * 1_440, by: [.team, .model], every: .day))
        }
    }

    /// Retention drops minute cells only where hour cells hold them, hour cells only where
    /// day cells do; totals over old ranges stay exact, at the precision still held.
    @Test func retentionKeepsTotalsAtTheCoarserGranularity() throws {
        try withTemporaryDirectory { directory in
            var random = SplitMix64(seed: 3)
            let store = try UsageStore(directory: directory)
            var cells: [Cell] = []
            for seq in 1...30 {
                let batch = (0..<10).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(10 * 1_440), using: &random), &random) }
                _ = try store.apply(UsageStoreTests.batch(UInt64(seq), batch))
                cells += batch
            }
            let now = (Self.day0 + 10 * 1_440) * 60
            // Nothing is dropped before the rollups hold it.
            #expect(try store.enforceRetention(RetentionPolicy(minutes: 120, hours: 2 * 1_440, days: nil), now: now) == RetentionProgress())
            try store.rollUp(now: now)
            let dropped = try store.enforceRetention(RetentionPolicy(minutes: 2 * 1_440, hours: 5 * 1_440, days: nil), now: now)
            #expect(dropped == RetentionProgress(minutesKeptFrom: Self.day0 + 8 * 1_440, hoursKeptFrom: Self.day0 + 5 * 1_440))
            // Everything, by team and by day: exact.
            #expect(try Self.answer(store, from: Self.day0, to: Self.day0 + 10 * 1_440, by: [.team], every: .day)
                    == Self.truth(cells, from: Self.day0, to: Self.day0 + 10 * 1_440, by: [.team], every: .day))
            // An hour series where only hours are left: exact per hour.
            #expect(try Self.answer(store, from: Self.day0 + 6 * 1_440, to: Self.day0 + 7 * 1_440, by: [], every: .hour)
                    == Self.truth(cells, from: Self.day0 + 6 * 1_440, to: Self.day0 + 7 * 1_440, by: [], every: .hour))
            // Edges inside dropped minutes widen to their hours; inside dropped hours, to their days.
            #expect(try Self.answer(store, from: Self.day0 + 6 * 1_440 + 75, to: Self.day0 + 6 * 1_440 + 200, by: [.key])
                    == Self.truth(cells, from: Self.day0 + 6 * 1_440 + 60, to: Self.day0 + 6 * 1_440 + 240, by: [.key]))
            #expect(try Self.answer(store, from: Self.day0 + 1_440 + 75, to: Self.day0 + 1_440 + 200, by: [.key])
                    == Self.truth(cells, from: Self.day0 + 1_440, to: Self.day0 + 2 * 1_440, by: [.key]))
            // The minute cells really are gone.
            var minutes = 0
            try store.db.snapshot().scan(from: CellGranularity.minute.prefix(at: .min), to: CellGranularity.minute.prefix(at: Self.day0 + 8 * 1_440)) { _, _ in minutes += 1 }
            #expect(minutes == 0)
            // A later pass drops nothing more, and the horizons survive a restart.
            #expect(try store.enforceRetention(RetentionPolicy(minutes: 2 * 1_440, hours: 5 * 1_440, days: nil), now: now) == RetentionProgress())
            store.close()
            let reopened = try UsageStore(directory: directory)
            #expect(reopened.rollup.withLockedValue { $0.minutesKeptFrom } == Self.day0 + 8 * 1_440)
        }
    }

    @Test func retentionConfig() throws {
        let base = "insecure_plaintext: true\n"
        #expect(try AggregatorConfig(yaml: base).retention == RetentionPolicy(minutes: 14 * 1_440, hours: 400 * 1_440, days: nil))
        let set = try AggregatorConfig(yaml: base + "retention:\n  minutes: 36h\n  hours: 2w\n  days: 800d\n").retention
        #expect(set == RetentionPolicy(minutes: 36 * 60, hours: 14 * 1_440, days: 800 * 1_440))
        #expect(try AggregatorConfig(yaml: base + "retention:\n  minutes: forever\n  hours: forever\n").retention == .forever)
        for (yaml, message) in [("minutes: 14x", "retention.minutes"), ("minutes: 30m", "retention.minutes"),
                                ("minutes: 20d\n  hours: 10d", "no longer than retention.hours"),
                                ("hours: forever\n  days: 30d", "no longer than retention.days"), ("weeks: 3w", "weeks")] {
            #expect(throws: ConfigError.self, "\(yaml)") { try AggregatorConfig(yaml: base + "retention:\n  " + yaml + "\n") }
            do { _ = try AggregatorConfig(yaml: base + "retention:\n  " + yaml + "\n") } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    /// `/v1/usage` over rolled-up history gives the minute cells' totals.
    @Test func usageRouteReadsRollups() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: (Self.day0 + 3 * 1_440) * 60))
            var random = SplitMix64(seed: 5)
            let cells = (0..<200).map { _ in Self.randomCell(minute: Self.day0 + Int64.random(in: 0..<(2 * 1_440), using: &random), &random) }
            _ = try store.apply(UsageStoreTests.batch(1, cells))
            try store.rollUp(now: (Self.day0 + 3 * 1_440) * 60)
            // The router's own clock is the system's: the range is given in Unix seconds.
            let response = router.respond(method: .GET, uri: "/v1/usage?since=\(Self.day0 * 60)&until=\((Self.day0 + 3 * 1_440) * 60)&by=team&every=day", authorization: BudgetAPITests.auth)
            let rows = try JSONDecoder().decode([UsageRow].self, from: Data(response.body.utf8))
            var got: [String: UsageCounters] = [:]
            for row in rows { got["\(row.bucket!)|\(row.dimensions[.team]!)"] = row.counters }
            var expected: [String: UsageCounters] = [:]
            for cell in cells {
                expected["\(CivilDate.rfc3339(minute: UsageBucket.day.start(ofMinute: cell.key.minute)))|\(cell.key.dimensions.team)", default: UsageCounters()].add(cell.counters)
            }
            #expect(got == expected)
        }
    }
}
