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
            let response = router.respond(method: .GET, uri: "/v1/usage?\(query)")
            #expect(response.status == .ok, "\(query): \(response.body)")
        }
    }

    @Test(arguments: [
        ("since=yesterday", "is not a time"),
        ("since=-9223372036854775800", "is not a time"),
        ("since=9223372036854775807", "outside 1970 to 9999"),
        ("since=1h&until=2h", "before since"),
    ])
    func refusesWhatItCannotAnswer(_ query: String, _ message: String) throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .GET, uri: "/v1/usage?\(query)")
            #expect(response.status == .badRequest)
            #expect((BudgetAPITests.object(response)["error"] as? String)?.contains(message) == true, "\(response.body)")
        }
    }
}
