import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// `GET /v1/usage` reads its times with the same grammar as the CLI, and refuses any it
/// cannot answer with a 400 that says what is accepted.
@Suite struct UsageAPITests {
    @Test(arguments: ["since=24h", "since=7d&until=now", "since=2026-11-01T00:00:00Z&until=%2B1h", "since=0&until=1795478400"])
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
}
