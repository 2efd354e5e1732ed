import Foundation
import Logging
import NIOHTTP1
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The read-only token reads; only the admin token changes; every change is in the audit log.
@Suite struct APIAccessAndAuditTests {
    static let admin = BudgetAPITests.auth
    static let reader = "Bearer read-only-token"

    static func router(_ store: UsageStore, clock: ManualClock) throws -> APIRouter {
        let metrics = AggregatorMetrics()
        let board = BudgetBoardTests.board(store, clock: clock)
        return APIRouter(store: store, metrics: metrics, budgets: board, token: APIToken(BudgetAPITests.token), clock: clock.serviceClock,
                         readToken: APIToken("read-only-token", kind: .read), keys: try KeyLabelBook(store: store),
                         audit: AuditLog(store: store, clock: clock.serviceClock, metrics: metrics, logger: Logger(label: "test")))
    }

    static func array(_ response: APIRouter.Response) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [[String: Any]] ?? []
    }

    @Test func theReadOnlyTokenReadsAndCannotChangeAnything() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            for path in ["/v1/usage", "/v1/budgets", "/v1/keys", "/v1/audit"] {
                #expect(router.respond(method: .GET, uri: path, authorization: Self.reader).status == .ok, "\(path)")
                #expect(router.respond(method: .GET, uri: path, authorization: Self.admin).status == .ok, "\(path)")
                let missing = router.respond(method: .GET, uri: path)
                #expect(missing.status == .unauthorized)
                #expect(missing.body.contains("api-read-token"), "the refusal names the token that would do: \(missing.body)")
            }
            for (method, path) in [(HTTPMethod.PUT, "/v1/budgets/x"), (.DELETE, "/v1/budgets/x"), (.POST, "/v1/budgets/x/exemptions"),
                                   (.PUT, "/v1/keys/\(KeyLabelTests.keyA)"), (.DELETE, "/v1/keys/\(KeyLabelTests.keyA)")] {
                let refused = router.respond(method: method, uri: path, authorization: Self.reader, body: Data(BudgetAPITests.mlDaily.utf8))
                #expect(refused.status == .forbidden, "\(method) \(path)")
                #expect(refused.body.contains("read-only token") && refused.body.contains("admin token"), "\(refused.body)")
            }
            #expect(store.budget(id: "x") == nil)
            let metrics = MetricsText(router.metrics.exposition())
            #expect(metrics[#"tollgate_api_unauthorized_total{reason="read_only"}"#] == 5)
            #expect(metrics[#"tollgate_api_unauthorized_total{reason="missing"}"#] == 4)
        }
    }

    @Test func everyBudgetChangeIsRecordedWithWhoBeforeAndAfter() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let router = try Self.router(store, clock: clock)
            let raised = BudgetAPITests.mlDaily.replacingOccurrences(of: "1000", with: "2000")
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/ml", authorization: Self.admin, actor: "alice@laptop",
                                   body: Data(BudgetAPITests.mlDaily.utf8)).status == .created)
            // Unchanged: nothing to record.
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/ml", authorization: Self.admin, body: Data(BudgetAPITests.mlDaily.utf8)).status == .ok)
            clock.advance(by: .seconds(60))
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/ml", authorization: Self.admin, actor: "bob@ci",
                                   body: Data(raised.utf8)).status == .ok)
            let exemption = #"{"limit": 5000, "until": \#(BudgetStoreTests.now + 3600), "reason": "launch", "author": "bob"}"#
            #expect(router.respond(method: .POST, uri: "/v1/budgets/ml/exemptions", authorization: Self.admin, body: Data(exemption.utf8)).status == .created)
            #expect(router.respond(method: .DELETE, uri: "/v1/budgets/ml", authorization: Self.admin).status == .ok)

            let history = Self.array(router.respond(method: .GET, uri: "/v1/audit?target=budget:ml", authorization: Self.reader))
            #expect(history.map { $0["action"] as? String } == ["budget.set", "budget.set", "budget.exempt", "budget.remove"])
            #expect(history.map { $0["actor"] as? String } == ["alice@laptop", "bob@ci", "unknown", "unknown"])
            #expect(history.allSatisfy { $0["token"] as? String == "admin" })
            #expect(history[0]["before"] == nil && (history[0]["after"] as? [String: Any])?["limit"] as? Int == 1000)
            #expect((history[1]["before"] as? [String: Any])?["limit"] as? Int == 1000 && (history[1]["after"] as? [String: Any])?["limit"] as? Int == 2000)
            #expect((history[2]["after"] as? [String: Any])?["reason"] as? String == "launch")
            #expect((history[3]["before"] as? [String: Any])?["limit"] as? Int == 2000 && history[3]["after"] == nil)
            #expect(history[1]["at_unix_ms"] as? Int == Int(BudgetStoreTests.now + 60) * 1000)
            // Time filters and bad input.
            #expect(Self.array(router.respond(method: .GET, uri: "/v1/audit?since=\(BudgetStoreTests.now + 30)", authorization: Self.reader)).count == 3)
            #expect(router.respond(method: .GET, uri: "/v1/audit?since=soon", authorization: Self.reader).status == .badRequest)
            #expect(router.respond(method: .GET, uri: "/v1/audit?until=0&since=10", authorization: Self.reader).status == .badRequest)
            #expect(router.respond(method: .GET, uri: "/v1/audit?who=me", authorization: Self.reader).status == .badRequest)
            #expect(MetricsText(router.metrics.exposition())[#"tollgate_audit_entries_total{action="budget.set"}"#] == 2)
        }
    }

    @Test func keysAreLabelledOnlyOnceSeenAndReportsShowTheirName() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let path = "/v1/keys/\(KeyLabelTests.keyA)"
            let label = #"{"name": "nightly-evals", "team": "ml", "project": "evals", "owner": "alice", "cost_center": "CC-1"}"#
            let unseen = router.respond(method: .PUT, uri: path, authorization: Self.admin, body: Data(label.utf8))
            #expect(unseen.status == .notFound && unseen.body.contains("never been seen") && unseen.body.contains("tollgate keys list"))

            _ = try store.apply(BudgetStoreTests.batch(1, [KeyLabelTests.cell(key: KeyLabelTests.keyA, hint: "openai:sk-…0001", minute: BudgetStoreTests.minute, cost: 7_000),
                                                          KeyLabelTests.cell(key: KeyLabelTests.keyB, hint: "openai:sk-…0002", minute: BudgetStoreTests.minute, cost: 9_000)]))
            #expect(router.respond(method: .PUT, uri: path, authorization: Self.admin, body: Data("[1]".utf8)).status == .badRequest)
            #expect(router.respond(method: .PUT, uri: path, authorization: Self.admin, body: Data(#"{"team": "m\u0007l"}"#.utf8)).status == .badRequest)
            let labelled = router.respond(method: .PUT, uri: path, authorization: Self.admin, actor: "alice", body: Data(label.utf8))
            #expect(labelled.status == .ok, "\(labelled.body)")

            // Unlabelled first, then by spend; spend this month is the key's.
            let keys = Self.array(router.respond(method: .GET, uri: "/v1/keys", authorization: Self.reader))
            #expect(keys.map { $0["key_id"] as? String } == [KeyLabelTests.keyB, KeyLabelTests.keyA])
            #expect(keys[1]["name"] as? String == "nightly-evals" && keys[1]["cost_center"] as? String == "CC-1")
            #expect(keys[1]["month_cost_nanousd"] as? Int == 7_000 && keys[1]["first_seen_unix"] as? Int == Int(BudgetStoreTests.minute * 60))

            let usage = Self.array(router.respond(method: .GET, uri: "/v1/usage?since=0&by=key", authorization: Self.reader))
            #expect(usage.first { $0["key"] as? String == KeyLabelTests.keyA }?["key_name"] as? String == "nightly-evals")
            #expect(usage.first { $0["key"] as? String == KeyLabelTests.keyB }?["key_name"] == nil)

            #expect(router.respond(method: .DELETE, uri: path, authorization: Self.admin).status == .ok)
            let audit = Self.array(router.respond(method: .GET, uri: "/v1/audit?target=key:", authorization: Self.reader))
            #expect(audit.map { $0["action"] as? String } == ["key.label", "key.unlabel"])
            #expect((audit[0]["after"] as? [String: Any])?["team"] as? String == "ml" && audit[0]["actor"] as? String == "alice")
            #expect((audit[1]["before"] as? [String: Any])?["name"] as? String == "nightly-evals")
            // A restart keeps nothing of the removed label.
            #expect(try KeyLabelBook(store: store).all().isEmpty)
        }
    }
}
