import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// `GET /v1/usage` reads its times with the same grammar as the CLI, and refuses any it
/// cannot answer with a 400 that says what is accepted.
@Suite struct UsageAPITests {
    @Test(arguments: ["since=24h", "since=7d&until=now", "since=2026-11-01T00:00:00Z&until=%2B1h", "since=0&until=1795478400",
                      "since=2026-11-01&until=2026-12-01", "since=7d&every=day&top=3", "since=1h&until=1h", "top=10000"])
    func acceptsEveryForm(_ query: String) throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .GET, uri: "/v1/usage?\(query)", authorization: BudgetAPITests.auth)
            #expect(response.status == .ok, "\(query): \(response.body)")
        }
    }

    @Test(arguments: [
        ("since=yesterday", "is not a time"),
        ("since=-9223372036854775800", "is not a time"),
        ("since=9223372036854775807", "outside 1970 to 9999"),
        ("since=1h&until=2h", "before since"),
        ("since=1h&tema=ml", "unknown parameter 'tema'"),
        ("team=", "has no value"),
        ("team=ml&team=ai", "given twice"),
        ("by=", "empty dimension name"),
        ("by=team,tema", "unknown dimension 'tema'"),
        ("since=2026-12-01&until=2026-11-01", "until (2026-11-01) is before since (2026-12-01)"),
        ("every=fortnight", "expected one of hour, day, week, month"),
        ("top=0", "top '0' is not a count; expected a whole number from 1 to 10000"),
        ("top=ten", "top 'ten' is not a count"),
        ("top=10001", "top '10001' is not a count"),
        ("top=-1", "top '-1' is not a count"),
    ])
    func refusesWhatItCannotAnswer(_ query: String, _ message: String) throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .GET, uri: "/v1/usage?\(query)", authorization: BudgetAPITests.auth)
            #expect(response.status == .badRequest)
            #expect((BudgetAPITests.object(response)["error"] as? String)?.contains(message) == true, "\(response.body)")
        }
    }

    /// `?team=ml` once returned every team's usage: a dimension parameter filters.
    @Test func dimensionParametersFilter() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let minute = BudgetStoreTests.minute
            var ml = UsageStoreTests.cell(minute: minute, key: "k1", model: "gpt-4.1", requests: 2)
            ml.key.dimensions.team = "ml"
            var web = UsageStoreTests.cell(minute: minute, key: "k2", model: "gpt-4.1", requests: 5)
            web.key.dimensions.team = "web"
            _ = try store.apply(UsageStoreTests.batch(1, [ml, web]))
            func requests(_ query: String) -> [Int] {
                let response = router.respond(method: .GET, uri: "/v1/usage?since=0&\(query)", authorization: BudgetAPITests.auth)
                let rows = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [[String: Any]] ?? []
                return rows.compactMap { $0["requests"] as? Int }
            }
            #expect(requests("by=model") == [7])
            #expect(requests("by=model&team=ml") == [2])
            #expect(requests("by=team&team=web&model=gpt-4.1") == [5])
            #expect(requests("by=team&team=nobody") == [])
        }
    }

    /// Each refusal is counted under its reason, so a dashboard built on typos shows up.
    @Test func refusalsAreCountedByReason() throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            for query in ["since=soon", "since=2h&until=3h", "every=year", "top=0", "top=x", "by=tema", "tema=ml", "team=", "team=a&team=b"] {
                #expect(router.respond(method: .GET, uri: "/v1/usage?\(query)", authorization: BudgetAPITests.auth).status == .badRequest, "\(query)")
            }
            let metrics = MetricsText(router.metrics.exposition())
            for (reason, count) in [("bad_time", 1), ("bad_range", 1), ("bad_every", 1), ("bad_top", 2), ("unknown_dimension", 2),
                                    ("bad_filter", 1), ("repeated_parameter", 1)] {
                #expect(metrics[#"tollgate_api_rejected_total{reason="\#(reason)"}"#] == Double(count), "\(reason)")
            }
        }
    }

    static func rows(_ router: APIRouter, _ query: String) -> [[String: Any]] {
        let response = router.respond(method: .GET, uri: "/v1/usage?\(query)", authorization: BudgetAPITests.auth)
        #expect(response.status == .ok, "\(query): \(response.body)")
        return (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [[String: Any]] ?? []
    }

    /// [since, until): the minute that starts at `until` is the next window's, so November
    /// and December never share a minute; a window that starts mid-minute holds that minute.
    @Test func theWindowIsHalfOpen() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let november = Int64(1_793_491_200) / 60, december = Int64(1_796_083_200) / 60  // 2026-11-01, 2026-12-01
            let cells = [(november - 1, 1), (november, 2), (december - 1, 4), (december, 8)].map { minute, requests in
                UsageStoreTests.cell(minute: minute, key: "k", model: "m", requests: Int64(requests))
            }
            _ = try store.apply(UsageStoreTests.batch(1, cells))
            func requests(_ query: String) -> Int { Self.rows(router, "by=model&\(query)").compactMap { $0["requests"] as? Int }.reduce(0, +) }
            #expect(requests("since=2026-11-01&until=2026-12-01") == 6)
            #expect(requests("since=2026-10-31T23:59:30Z&until=2026-12-01") == 7)
            #expect(requests("since=2026-11-01&until=2026-12-01T00:00:01Z") == 14)
            #expect(requests("since=2026-11-01&until=2026-11-01") == 0)
            #expect(Self.rows(router, "since=2026-11-01&until=2026-12-01&by=model&every=month").map { $0["bucket"] as? String } == ["2026-11-01T00:00:00Z"])
        }
    }

    /// An empty window is an empty answer, not an error.
    @Test func anEmptyRangeIsAnEmptyList() throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .GET, uri: "/v1/usage?since=2026-11-01&until=2026-12-01&by=team&every=day&top=3", authorization: BudgetAPITests.auth)
            #expect(response.status == .ok && response.body == "[]")
        }
    }

    /// Random cells over ten weeks across a month boundary: every step (none, hour, day,
    /// week, month), with or without top, gives the same totals per group and overall, and a
    /// window split in two sums to the whole. Nothing is lost or counted twice at a boundary.
    @Test func totalsReconcileAcrossGranularities() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            var random = SplitMix64(seed: 18)
            let start = Int64(1_792_022_400) / 60  // 2026-10-15
            let teams = ["ml", "web", "data, \"quoted\""], models = ["gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-pro"]
            for seq in 1...4 {
                let cells = (0..<150).map { _ in
                    var cell = UsageStoreTests.cell(minute: start + Int64(random.next() % (70 * 1_440)), key: "k\(random.next() % 3)",
                                                    model: models[Int(random.next() % 3)], requests: Int64(random.next() % 5 + 1),
                                                    input: Int64(random.next() % 5_000), output: Int64(random.next() % 900),
                                                    cost: Int64(random.next() % 90_000_000))
                    cell.key.dimensions.team = teams[Int(random.next() % 3)]
                    return cell
                }
                _ = try store.apply(UsageStoreTests.batch(UInt64(seq), cells))
            }
            struct Sums: Equatable { var requests = 0, input = 0, output = 0, cost = 0 }
            func sums(_ query: String) -> (total: Sums, perGroup: [String: Sums]) {
                var total = Sums(), perGroup: [String: Sums] = [:]
                for row in Self.rows(router, "by=team,model&\(query)") {
                    let group = "\(row["team"] ?? "-")|\(row["model"] ?? "-")"
                    var add = Sums(requests: row["requests"] as? Int ?? -1, input: row["input_tokens"] as? Int ?? -1,
                                   output: row["output_tokens"] as? Int ?? -1, cost: row["cost_nanousd"] as? Int ?? -1)
                    total.requests += add.requests; total.input += add.input; total.output += add.output; total.cost += add.cost
                    if row["other_groups"] == nil {
                        let old = perGroup[group, default: Sums()]
                        add.requests += old.requests; add.input += old.input; add.output += old.output; add.cost += old.cost
                        perGroup[group] = add
                    }
                }
                return (total, perGroup)
            }
            let window = "since=2026-10-15&until=2026-12-24"
            let whole = sums(window)
            #expect(whole.total.requests > 0 && whole.perGroup.count == 9)
            for step in ["hour", "day", "week", "month"] {
                let series = sums("\(window)&every=\(step)")
                #expect(series.total == whole.total, "\(step)")
                #expect(series.perGroup == whole.perGroup, "\(step)")
                #expect(sums("\(window)&every=\(step)&top=2").total == whole.total, "\(step) top 2")
            }
            #expect(sums("\(window)&top=1").total == whole.total)
            let before = sums("since=2026-10-15&until=2026-11-01").total, after = sums("since=2026-11-01&until=2026-12-24").total
            #expect(Sums(requests: before.requests + after.requests, input: before.input + after.input, output: before.output + after.output,
                         cost: before.cost + after.cost) == whole.total)
        }
    }
}
