import Foundation
import Logging
import NIOHTTP1
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

@Suite struct BudgetAPITests {
    static let token = "s3cret-token"
    static let auth = "Bearer \(token)"

    static func router(_ store: UsageStore, clock: ManualClock) -> APIRouter {
        let board = BudgetBoardTests.board(store, clock: clock)
        return APIRouter(store: store, metrics: AggregatorMetrics(), budgets: board, token: APIToken(token))
    }

    static func object(_ response: APIRouter.Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
    }

    static let mlDaily = #"{"selector":"team=ml","unit":"usd","limit":1000,"period":"day","owner":"alice@example.com"}"#

    @Test func budgetEndpointsNeedTheBearerToken() throws {
        try withTemporaryDirectory { directory in
            let router = Self.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            for (method, path) in [(HTTPMethodName.get, "/v1/budgets"), (.get, "/v1/budgets/x"), (.put, "/v1/budgets/x"),
                                   (.delete, "/v1/budgets/x"), (.post, "/v1/budgets/x/exemptions")] {
                let missing = router.respond(method: method.nio, uri: path, body: Data(Self.mlDaily.utf8))
                #expect(missing.status == .unauthorized)
                #expect((Self.object(missing)["error"] as? String)?.contains("bearer token") == true)
                let wrong = router.respond(method: method.nio, uri: path, authorization: "Bearer nope", body: Data(Self.mlDaily.utf8))
                #expect(wrong.status == .unauthorized)
            }
            // Usage reveals spend per key and team: it needs a token too.
            #expect(router.respond(method: .GET, uri: "/v1/usage").status == .unauthorized)
            #expect(router.respond(method: .GET, uri: "/v1/usage", authorization: Self.auth).status == .ok)
            #expect(router.respond(method: .GET, uri: "/healthz").status == .ok)
            #expect(router.respond(method: .GET, uri: "/metrics").status == .ok)
        }
    }

    /// A budget's model is stored canonical; an unknown model is a 400 naming the known ones, counted.
    @Test func aSelectorsModelIsResolvedOrRefused() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let snapshot = #"{"selector":"model=claude-sonnet-4-5-20250929,team=ml","unit":"requests","limit":10,"period":"day"}"#
            let created = router.respond(method: .PUT, uri: "/v1/budgets/sonnet", authorization: Self.auth, body: Data(snapshot.utf8))
            #expect(created.status == .created)
            #expect(store.budget(id: "sonnet")?.budget.selector.description == "model=claude-sonnet-4-5,team=ml")

            let unknown = #"{"selector":"model=claude-sonnet-9","unit":"requests","limit":10,"period":"day"}"#
            let refused = router.respond(method: .PUT, uri: "/v1/budgets/typo", authorization: Self.auth, body: Data(unknown.utf8))
            #expect(refused.status == .badRequest)
            let message = Self.object(refused)["error"] as? String ?? ""
            #expect(message.contains("'claude-sonnet-9'") && message.contains("claude-sonnet-4-5") && message.contains("gpt-4.1"), "\(message)")
            #expect(store.budget(id: "typo") == nil)
            let metrics = MetricsText(router.metrics.exposition())
            #expect(metrics[#"tollgate_api_rejected_total{reason="unknown_model"}"#] == 1)
            #expect(router.respond(method: .GET, uri: "/v1/usage?by=modle", authorization: Self.auth).status == .badRequest)
            #expect(MetricsText(router.metrics.exposition())[#"tollgate_api_rejected_total{reason="unknown_dimension"}"#] == 1)
        }
    }

    @Test func createReadListExemptAndDeleteThroughTheRouter() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let created = router.respond(method: .PUT, uri: "/v1/budgets/ml-daily", authorization: Self.auth, body: Data(Self.mlDaily.utf8))
            #expect(created.status == .created)
            #expect(Self.object(created)["change"] as? String == "created")
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/ml-daily", authorization: Self.auth, body: Data(Self.mlDaily.utf8)).status == .ok)

            #expect(try store.apply(BudgetStoreTests.batch(1, [BudgetStoreTests.cell(minute: BudgetStoreTests.minute, cost: 600)])) == .applied)
            let list = router.respond(method: .GET, uri: "/v1/budgets", authorization: Self.auth)
            #expect(list.status == .ok)
            let entries = (try JSONSerialization.jsonObject(with: Data(list.body.utf8))) as? [[String: Any]] ?? []
            #expect(entries.count == 1)
            let status = entries.first?["status"] as? [String: Any]
            #expect(status?["spent"] as? Int == 600 && status?["state"] as? String == "warning")
            #expect((entries.first?["budget"] as? [String: Any])?["owner"] as? String == "alice@example.com")

            let exemption = #"{"limit":5000,"until":\#(BudgetStoreTests.now + 3_600),"reason":"launch","author":"bob"}"#
            let exempted = router.respond(method: .POST, uri: "/v1/budgets/ml-daily/exemptions", authorization: Self.auth, body: Data(exemption.utf8))
            #expect(exempted.status == .created)
            #expect((Self.object(exempted)["status"] as? [String: Any])?["effective_limit"] as? Int == 5_000)

            let shown = Self.object(router.respond(method: .GET, uri: "/v1/budgets/ml-daily", authorization: Self.auth))
            #expect((shown["exemptions"] as? [[String: Any]])?.first?["reason"] as? String == "launch")

            #expect(router.respond(method: .DELETE, uri: "/v1/budgets/ml-daily", authorization: Self.auth).status == .ok)
            #expect(router.respond(method: .GET, uri: "/v1/budgets/ml-daily", authorization: Self.auth).status == .notFound)
            #expect(router.respond(method: .DELETE, uri: "/v1/budgets/ml-daily", authorization: Self.auth).status == .notFound)
            #expect(store.exemptions(budgetID: "ml-daily").count == 1)
        }
    }

    @Test(arguments: [
        ("/v1/budgets/ml-daily", "not json", "JSON object"),
        ("/v1/budgets/ml-daily", #"{"unit":"usd","limit":1,"period":"day"}"#, "selector"),
        ("/v1/budgets/ml-daily", #"{"selector":"team=ml","unit":"eur","limit":1,"period":"day"}"#, "unit"),
        ("/v1/budgets/ml-daily", #"{"selector":"colour=red","unit":"usd","limit":1,"period":"day"}"#, "colour"),
        ("/v1/budgets/ml-daily", #"{"selector":"*","unit":"usd","limit":1,"period":"day","time_zone":"Mars/Base"}"#, "time_zone"),
        ("/v1/budgets/ml-daily", #"{"id":"other","selector":"*","unit":"usd","limit":1,"period":"day"}"#, "differs"),
        ("/v1/budgets/Bad%20Id", #"{"selector":"*","unit":"usd","limit":1,"period":"day"}"#, "budget id"),
    ])
    func badBudgetsGetA400NamingTheProblem(path: String, body: String, mention: String) throws {
        try withTemporaryDirectory { directory in
            let router = Self.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .PUT, uri: path, authorization: Self.auth, body: Data(body.utf8))
            #expect(response.status == .badRequest)
            #expect((Self.object(response)["error"] as? String)?.contains(mention) == true, "\(response.body)")
        }
    }

    @Test func exemptionsForUnknownBudgetsAre404AndBadOnesAre400() throws {
        try withTemporaryDirectory { directory in
            let router = Self.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let body = #"{"limit":5000,"until":\#(BudgetStoreTests.now + 60),"reason":"r","author":"a"}"#
            #expect(router.respond(method: .POST, uri: "/v1/budgets/nope/exemptions", authorization: Self.auth, body: Data(body.utf8)).status == .notFound)
            _ = router.respond(method: .PUT, uri: "/v1/budgets/ml-daily", authorization: Self.auth, body: Data(Self.mlDaily.utf8))
            let noReason = #"{"limit":5000,"until":\#(BudgetStoreTests.now + 60),"reason":" ","author":"a"}"#
            #expect(router.respond(method: .POST, uri: "/v1/budgets/ml-daily/exemptions", authorization: Self.auth, body: Data(noReason.utf8)).status == .badRequest)
            let past = #"{"limit":5000,"until":1,"reason":"r","author":"a"}"#
            #expect(router.respond(method: .POST, uri: "/v1/budgets/ml-daily/exemptions", authorization: Self.auth, body: Data(past.utf8)).status == .badRequest)
        }
    }

    @Test func theTokenFileIsCreatedOnceWithMode0600() throws {
        try withTemporaryDirectory { directory in
            let first = try APIToken.loadOrCreate(file: nil, dataDirectory: directory, logger: Logger(label: "test"))
            let path = APIToken.defaultPath(dataDirectory: directory)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = (attributes[.posixPermissions] as? Int) ?? (attributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            #expect(first.value.count == 64)
            let second = try APIToken.loadOrCreate(file: nil, dataDirectory: directory, logger: Logger(label: "test"))
            #expect(second.value == first.value)
            #expect(first.accepts(authorization: "Bearer \(first.value)") && !first.accepts(authorization: first.value))
            #expect(throws: ConfigTokenError.self) { try APIToken.loadOrCreate(file: directory + "/missing", dataDirectory: directory, logger: Logger(label: "test")) }
        }
    }
}

/// The router's methods, spelled so parameterised loops read well.
enum HTTPMethodName {
    case get, put, delete, post
    var nio: NIOHTTP1.HTTPMethod {
        switch self {
        case .get: .GET
        case .put: .PUT
        case .delete: .DELETE
        case .post: .POST
        }
    }
}
