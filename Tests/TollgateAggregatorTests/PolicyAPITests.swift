import Foundation
import Logging
import NIOHTTP1
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// `/v1/policies`: tokens, validation at set (400 with the validator's reason), 404s, the
/// audit trail, exceptions, and the guard on budgets a downgrade names.
@Suite struct PolicyAPITests {
    static let admin = BudgetAPITests.auth
    static let reader = "Bearer read-only-token"
    static let catalog = try! PriceCatalog(yaml: """
    models:
      claude-opus-4-1: {provider: anthropic, input: 15, output: 75, tier: premium}
      claude-sonnet-4-5: {provider: anthropic, input: 3, output: 15, tier: standard}
      claude-haiku-4-5: {provider: anthropic, input: 1, output: 5, tier: economy}
      gpt-4.1: {provider: openai, input: 2, output: 8, tier: standard}
      gpt-4.1-mini: {provider: openai, input: 0.4, output: 1.6, tier: economy}
    """, source: "test")
    static let autocomplete = #"{"kind":"route","scope":"use_case=autocomplete","models":["claude-*"],"target":"claude-haiku-4-5","owner":"platform@example.com"}"#

    static func router(_ store: UsageStore, clock: ManualClock, fleet: FleetRegistry? = nil) throws -> APIRouter {
        let metrics = AggregatorMetrics()
        var router = APIRouter(store: store, metrics: metrics, budgets: BudgetBoardTests.board(store, clock: clock), token: APIToken(BudgetAPITests.token),
                               fleet: fleet, clock: clock.serviceClock, models: catalog, readToken: APIToken("read-only-token", kind: .read),
                               audit: AuditLog(store: store, clock: clock.serviceClock, metrics: metrics, logger: Logger(label: "test")))
        router.policies = try PolicyBook(store: store, catalog: catalog, clock: clock.serviceClock)
        return router
    }

    static func object(_ response: APIRouter.Response) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
    }

    static func put(_ router: APIRouter, _ id: String, _ body: String, actor: String? = nil) -> APIRouter.Response {
        router.respond(method: .PUT, uri: "/v1/policies/\(id)", authorization: admin, actor: actor, body: Data(body.utf8))
    }

    @Test func readTokenReadsAdminTokenChanges() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            #expect(Self.put(router, "autocomplete", Self.autocomplete).status == .created)
            for path in ["/v1/policies", "/v1/policies/autocomplete"] {
                #expect(router.respond(method: .GET, uri: path, authorization: Self.reader).status == .ok, "\(path)")
                #expect(router.respond(method: .GET, uri: path).status == .unauthorized, "\(path)")
            }
            let exception = #"{"scope":"team=research","until":\#(BudgetStoreTests.now + 3600),"reason":"eval","author":"alice"}"#
            for (method, path, body) in [(HTTPMethod.PUT, "/v1/policies/autocomplete", Self.autocomplete), (.DELETE, "/v1/policies/autocomplete", ""),
                                         (.POST, "/v1/policies/autocomplete/exceptions", exception), (.DELETE, "/v1/policies/autocomplete/exceptions/0", "")] {
                let refused = router.respond(method: method, uri: path, authorization: Self.reader, body: Data(body.utf8))
                #expect(refused.status == .forbidden, "\(method) \(path)")
                #expect(router.respond(method: method, uri: path, body: Data(body.utf8)).status == .unauthorized, "\(method) \(path)")
            }
            #expect(router.policies?.policy(id: "autocomplete")?.exceptions.isEmpty == true)
        }
    }

    @Test func aPolicyIsStoredCanonicalAndListedWithItsHits() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let body = ##"{"kind":"deny","scope":"env=dev","models":["tier:premium","claude-opus-4-1-20250805"],"mode":"dry_run","exception_path":"#finops"}"##
            let created = Self.put(router, "dev-no-premium", body)
            #expect(created.status == .created, "\(created.body)")
            let view = Self.object(created)
            #expect(view["change"] as? String == "created")
            let policy = try #require(view["policy"] as? [String: Any])
            #expect(policy["models"] as? [String] == ["tier:premium", "claude-opus-4-1"])
            #expect(policy["mode"] as? String == "dry_run" && policy["exception_path"] as? String == "#finops")
            #expect((view["hits"] as? [String: Any])?["routed"] as? Int == 0)
            #expect(Self.put(router, "dev-no-premium", body).status == .ok)
            #expect(Self.object(Self.put(router, "dev-no-premium", body))["change"] as? String == "unchanged")
            let list = try JSONDecoder().decode([PolicyView].self, from: Data(router.respond(method: .GET, uri: "/v1/policies", authorization: Self.reader).body.utf8))
            #expect(list.map(\.policy.id) == ["dev-no-premium"] && list[0].policy.mode == .dryRun)
            // The path names the policy; a body that names another is refused.
            let other = Self.put(router, "x", #"{"id":"y","kind":"deny","models":["*"]}"#)
            #expect(other.status == .badRequest && other.body.contains("differs"))
        }
    }

    /// Each reason the validator or the body parser refuses is a 400 naming it, counted.
    @Test(arguments: [
        (#"{"kind":"route","models":["gpt-4.1"],"target":"gpt-9"}"#, "target model 'gpt-9'"),
        (#"{"kind":"route","models":["gpt-4.1"],"target":"claude-haiku-4-5"}"#, "cannot cross providers"),
        (#"{"kind":"route","models":["gpt-4.1"]}"#, "needs a target model"),
        (#"{"kind":"deny","models":["gpt-5-turbo"]}"#, "not in the price catalog"),
        (#"{"kind":"deny","models":[]}"#, "no models"),
        (#"{"kind":"deny","models":["tier:gold"]}"#, "unknown tier 'gold'"),
        (#"{"kind":"deny","models":["*"],"scope":"tema=ml"}"#, "scope"),
        (#"{"kind":"deny","models":["*"],"scope":"model=gpt-9"}"#, "gpt-9"),
        (#"{"kind":"block","models":["*"]}"#, "expected one of route, downgrade, allow, deny"),
        (#"{"kind":"deny","models":["*"],"mode":"maybe"}"#, "enforce or dry_run"),
        (#"{"models":["*"]}"#, "missing field 'kind'"),
        (#"{"kind":"downgrade","models":["gpt-4.1"],"target":"gpt-4.1-mini","budget_id":"nope","threshold_percent":80}"#, "budget 'nope' does not exist"),
        (#"{"kind":"downgrade","models":["gpt-4.1"],"target":"gpt-4.1-mini","budget_id":"ml","threshold_percent":120}"#, "expected 1–100"),
        (#"{"kind":"deny","models":["*"],"exceptions":[{"scope":"*","until_unix":99999999999}]}"#, "reason and an author"),
        ("[1]", "JSON object"),
    ])
    func invalidPoliciesAreRefusedWithTheirReason(_ body: String, _ reason: String) throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/ml", authorization: Self.admin, body: Data(BudgetAPITests.mlDaily.utf8)).status == .created)
            let refused = Self.put(router, "p", body)
            #expect(refused.status == .badRequest, "\(refused.body)")
            #expect(refused.body.contains(reason), "\(refused.body)")
            #expect(router.policies?.all().isEmpty == true)
            #expect(MetricsText(router.metrics.exposition())[#"tollgate_api_rejected_total{reason="invalid_policy"}"#] == 1)
        }
    }

    @Test func aRouteThatClosesALoopIsRefusedNamingBoth() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            #expect(Self.put(router, "up", #"{"kind":"route","models":["claude-haiku-4-5"],"target":"claude-sonnet-4-5"}"#).status == .created)
            let loop = Self.put(router, "down", #"{"kind":"route","models":["claude-sonnet-4-5"],"target":"claude-haiku-4-5"}"#)
            #expect(loop.status == .badRequest && loop.body.contains("loop") && loop.body.contains("'up'") && loop.body.contains("'down'"), "\(loop.body)")
        }
    }

    @Test func unknownPoliciesAndExceptionsAre404() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let exception = #"{"scope":"*","until":\#(BudgetStoreTests.now + 60),"reason":"r","author":"a"}"#
            for (method, path, body) in [(HTTPMethod.GET, "/v1/policies/nope", ""), (.DELETE, "/v1/policies/nope", ""),
                                         (.POST, "/v1/policies/nope/exceptions", exception), (.DELETE, "/v1/policies/nope/exceptions/0", "")] {
                let response = router.respond(method: method, uri: path, authorization: Self.admin, body: Data(body.utf8))
                #expect(response.status == .notFound && response.body.contains("no policy 'nope'"), "\(method) \(path): \(response.body)")
            }
            #expect(Self.put(router, "p", Self.autocomplete).status == .created)
            let index = router.respond(method: .DELETE, uri: "/v1/policies/p/exceptions/3", authorization: Self.admin)
            #expect(index.status == .notFound && index.body.contains("has no exception 3"))
            #expect(router.respond(method: .DELETE, uri: "/v1/policies/p/exceptions/first", authorization: Self.admin).status == .badRequest)
            #expect(router.respond(method: .PATCH, uri: "/v1/policies/p", authorization: Self.admin).status == .notFound)
        }
    }

    @Test func everyChangeIsInTheAuditLogAndExceptionsSurviveASet() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let router = try Self.router(store, clock: clock)
            #expect(Self.put(router, "p", Self.autocomplete, actor: "alice@laptop").status == .created)
            let until = BudgetStoreTests.now + 3_600
            let exception = #"{"scope":"team=research","until":\#(until),"reason":"opus eval","author":"bob"}"#
            let excepted = router.respond(method: .POST, uri: "/v1/policies/p/exceptions", authorization: Self.admin, actor: "bob@ci", body: Data(exception.utf8))
            #expect(excepted.status == .created, "\(excepted.body)")
            // A set without `exceptions` keeps them (the CLI's `policy set` sends none).
            let changed = Self.autocomplete.replacingOccurrences(of: "platform@", with: "infra@")
            #expect(Self.put(router, "p", changed).status == .ok)
            let kept = try #require(router.policies?.policy(id: "p"))
            #expect(kept.owner == "infra@example.com")
            #expect(kept.exceptions == [PolicyException(scope: try BudgetSelector(parsing: "team=research"), untilUnix: until, reason: "opus eval",
                                                        author: "bob", createdUnix: BudgetStoreTests.now)])
            // An exception that already ended is refused; one without a reason too.
            let past = #"{"scope":"*","until":\#(BudgetStoreTests.now - 1),"reason":"r","author":"a"}"#
            #expect(router.respond(method: .POST, uri: "/v1/policies/p/exceptions", authorization: Self.admin, body: Data(past.utf8)).status == .badRequest)
            let reasonless = #"{"scope":"*","until":\#(until),"reason":"","author":"a"}"#
            #expect(router.respond(method: .POST, uri: "/v1/policies/p/exceptions", authorization: Self.admin, body: Data(reasonless.utf8)).status == .badRequest)
            #expect(router.respond(method: .DELETE, uri: "/v1/policies/p/exceptions/0", authorization: Self.admin).status == .ok)
            #expect(router.policies?.policy(id: "p")?.exceptions.isEmpty == true)
            #expect(router.respond(method: .DELETE, uri: "/v1/policies/p", authorization: Self.admin).status == .ok)

            let history = APIAccessAndAuditTests.array(router.respond(method: .GET, uri: "/v1/audit?target=policy:p", authorization: Self.reader))
            #expect(history.map { $0["action"] as? String } == ["policy.set", "policy.except", "policy.set", "policy.unexcept", "policy.remove"])
            #expect(history.map { $0["actor"] as? String } == ["alice@laptop", "bob@ci", "unknown", "unknown", "unknown"])
            #expect(history[0]["before"] == nil && (history[0]["after"] as? [String: Any])?["target"] as? String == "claude-haiku-4-5")
            let exceptionsAfter = ((history[1]["after"] as? [String: Any])?["exceptions"] as? [[String: Any]]) ?? []
            #expect(exceptionsAfter.first?["reason"] as? String == "opus eval" && exceptionsAfter.first?["author"] as? String == "bob")
            #expect(history[4]["after"] == nil && (history[4]["before"] as? [String: Any])?["id"] as? String == "p")
            let metrics = MetricsText(router.metrics.exposition())
            #expect(metrics[#"tollgate_audit_entries_total{action="policy.set"}"#] == 2)
        }
    }

    /// A downgrade measures its budget: the budget cannot go while the policy names it.
    @Test func aBudgetNamedByADowngradeCannotBeRemoved() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = try Self.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/ml", authorization: Self.admin, body: Data(BudgetAPITests.mlDaily.utf8)).status == .created)
            let downgrade = #"{"kind":"downgrade","scope":"team=ml","models":["gpt-4.1"],"target":"gpt-4.1-mini","budget_id":"ml","threshold_percent":80}"#
            #expect(Self.put(router, "ml-near-cap", downgrade).status == .created)
            let refused = router.respond(method: .DELETE, uri: "/v1/budgets/ml", authorization: Self.admin)
            #expect(refused.status == .conflict && refused.body.contains("'ml-near-cap'"), "\(refused.body)")
            #expect(store.budget(id: "ml") != nil)
            #expect(router.respond(method: .DELETE, uri: "/v1/policies/ml-near-cap", authorization: Self.admin).status == .ok)
            #expect(router.respond(method: .DELETE, uri: "/v1/budgets/ml", authorization: Self.admin).status == .ok)
        }
    }

    /// Hits summed over agents (earlier processes carried), rejections per agent, and the
    /// gauges of `/metrics` for the policies that are set.
    @Test func fleetHitsAndRejectionsShowPerPolicy() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let fleet = try FleetRegistry(store: store, metrics: AggregatorMetrics(), logger: Logger(label: "test"), clock: clock.serviceClock)
            let router = try Self.router(store, clock: clock, fleet: fleet)
            #expect(Self.put(router, "p", Self.autocomplete).status == .created)
            func report(_ agent: String, started: Int64, hits: [PolicyHitCounts], rejected: [PolicyRejection]? = nil) throws {
                let message = AgentReportMessage(agentID: agent, name: "host-\(agent)", version: "1", staleAfterMs: 1_000, reportIntervalMs: 1_000,
                                                 sentUnixMs: 0, startedUnixMs: started, policyHits: hits, rejectedPolicies: rejected)
                fleet.receive(reportFrame: try AgentReportCodec.encode(message), keyName: nil, address: nil)
            }
            try report("a", started: 1, hits: [PolicyHitCounts(policyID: "p", routed: 5, dryRunRefused: 1)])
            try report("b", started: 1, hits: [PolicyHitCounts(policyID: "p", routed: 2, refused: 1)],
                       rejected: [PolicyRejection(policyID: "p", reason: "target model 'claude-haiku-4-5' is not in this agent's catalog")])
            // Agent a restarts: its 5 are carried, its new process counts from 0.
            try report("a", started: 2, hits: [PolicyHitCounts(policyID: "p", routed: 1)])
            let view = try JSONDecoder().decode(PolicyView.self, from: Data(router.respond(method: .GET, uri: "/v1/policies/p", authorization: Self.reader).body.utf8))
            #expect(view.hits == PolicyHitsView(routed: 8, refused: 1, dryRunRouted: 0, dryRunRefused: 1))
            #expect(view.rejectedBy == [PolicyRejectionView(agentID: "b", name: "host-b", reason: "target model 'claude-haiku-4-5' is not in this agent's catalog")])
            let agents = fleet.agents()
            #expect(agents.first { $0.agentID == "b" }?.rejectedPolicies == [RejectedPolicyView(policyID: "p", reason: view.rejectedBy[0].reason)])
            #expect(agents.first { $0.agentID == "a" }?.rejectedPolicies == nil)
            let metrics = MetricsText(router.respond(method: .GET, uri: "/metrics").body)
            #expect(metrics[#"tollgate_policy_hits{policy="p",outcome="routed"}"#] == 8)
            #expect(metrics[#"tollgate_policy_rejecting_agents{policy="p"}"#] == 1)
            #expect(metrics[#"tollgate_policies{mode="enforce"}"#] == 1)
            // The carried counts survive the aggregator's restart with the agent's record.
            let reloaded = try FleetRegistry(store: store, metrics: AggregatorMetrics(), logger: Logger(label: "test"), clock: clock.serviceClock)
            #expect(reloaded.policyHits()["p"]?.routed == 8)
        }
    }
}
