import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Policies kept in RocksDB across restarts, heard by observers in order, and pushed to
/// agents: every one in a snapshot, the changed and removed ones in a delta.
@Suite struct PolicyBookTests {
    static func route(_ id: String, _ models: String, to target: String, scope: String = "*") throws -> Policy {
        Policy(id: id, kind: .route, scope: try BudgetSelector(parsing: scope), models: [try ModelPattern(parsing: models)], target: target)
    }

    @Test func policiesSurviveARestartAndObserversHearEveryChangeInOrder() throws {
        try withTemporaryDirectory { directory in
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let heard = NIOLockedValueBox<[[String]]>([])
            do {
                let store = try UsageStore(directory: directory)
                let book = try PolicyBook(store: store, catalog: PolicyAPITests.catalog, clock: clock.serviceClock)
                book.addObserver { policies in heard.withLockedValue { $0.append(policies.map(\.id)) } }
                try book.set(try Self.route("b", "claude-opus-4-1-20250805", to: "claude-haiku-4-5", scope: "use_case=autocomplete"))
                try book.set(try Self.route("a", "gpt-4.1", to: "gpt-4.1-mini"))
                // Unchanged: nobody hears it.
                try book.set(try Self.route("a", "gpt-4.1", to: "gpt-4.1-mini"))
                let exception = PolicyException(scope: try BudgetSelector(parsing: "team=research"), untilUnix: BudgetStoreTests.now + 60,
                                                reason: "eval", author: "alice", createdUnix: BudgetStoreTests.now)
                try book.addException(exception, to: "a")
                #expect(try book.remove(id: "b")?.models == [.model("claude-opus-4-1")])
                #expect(try book.remove(id: "b") == nil)
                store.close()
            }
            #expect(heard.withLockedValue { $0 } == [[], ["b"], ["a", "b"], ["a", "b"], ["a"]])
            let store = try UsageStore(directory: directory)
            defer { store.close() }
            let book = try PolicyBook(store: store, catalog: PolicyAPITests.catalog, clock: clock.serviceClock)
            #expect(book.all().map(\.id) == ["a"])
            #expect(book.policy(id: "a")?.exceptions.map(\.reason) == ["eval"])
            #expect(book.invalidPolicies().isEmpty)
        }
    }

    /// A stored policy the catalog no longer supports is kept and reported at start, not lost.
    @Test func aStoredPolicyTheCatalogNoLongerKnowsIsReported() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            defer { store.close() }
            try store.savePolicy(try Self.route("old", "gpt-4.1", to: "gpt-3.5-turbo"))
            let book = try PolicyBook(store: store, catalog: PolicyAPITests.catalog, clock: ManualClock(unixSeconds: 0).serviceClock)
            #expect(book.all().map(\.id) == ["old"])
            let problems = book.invalidPolicies()
            #expect(problems.map(\.id) == ["old"] && problems[0].reason.contains("gpt-3.5-turbo"))
        }
    }

    @Test func theMirrorPushesPolicyChangesAsDeltasAndEveryPolicyInSnapshots() throws {
        var mirror = QuotaMirror()
        _ = mirror.refresh(statuses: [], watermarks: [:], issuedAt: 0)
        let a = try Self.route("a", "gpt-4.1", to: "gpt-4.1-mini")
        let b = try Self.route("b", "claude-*", to: "claude-haiku-4-5", scope: "use_case=autocomplete")
        let published = mirror.publishPolicies([b, a], issuedAt: 1)
        let first = try #require(published)
        #expect(first.policies == [a, b] && first.removedPolicyIDs.isEmpty && !first.isSnapshot && first.version == 2)
        #expect(mirror.publishPolicies([a, b], issuedAt: 2) == nil)
        #expect(mirror.snapshot(for: "agent", issuedAt: 3).policies == [a, b])
        #expect(mirror.broadcastSnapshot(issuedAt: 3).policies == [a, b])
        var changed = a
        changed.mode = .dryRun
        let republished = mirror.publishPolicies([changed], issuedAt: 4)
        let second = try #require(republished)
        #expect(second.policies == [changed] && second.removedPolicyIDs == ["b"])
        #expect(mirror.snapshot(for: "agent", issuedAt: 5).policies == [changed])
        // And over the wire, whole.
        let decoded = try QuotaUpdateCodec.decode(try QuotaUpdateCodec.encode(second))
        #expect(decoded.policies == [changed] && decoded.removedPolicyIDs == ["b"] && decoded.unreadablePolicies.isEmpty)
    }

    /// The API's JSON: snake_case, every field but kind and models optional.
    @Test func policyJSONIsSnakeCaseWithDefaults() throws {
        let minimal = try JSONDecoder().decode(Policy.self, from: Data(#"{"kind":"deny","models":["tier:premium"]}"#.utf8))
        #expect(minimal == Policy(id: "", kind: .deny, models: [.tier(.premium)]))
        var full = try Self.route("r", "claude-*", to: "claude-haiku-4-5", scope: "team=ml")
        full.exceptionPath = "#finops"
        full.exceptions = [PolicyException(scope: .all, untilUnix: 10, reason: "r", author: "a", createdUnix: 5)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(full), as: UTF8.self)
        #expect(text.contains(##""exception_path":"#finops""##) && text.contains(#""until_unix":10"#) && text.contains(#""budget_id":"""#))
        #expect(try JSONDecoder().decode(Policy.self, from: Data(text.utf8)) == full)
    }

    /// Routed requests and what routing saved, in the API's usage rows, both ways.
    @Test func usageRowsCarryRoutingCounts() throws {
        var counters = UsageCounters()
        counters.requests = 4
        counters.routed = 3
        counters.routingSavings = Nanodollars(1_250_000_000)
        let row = UsageRow(dimensions: [.team: "ml"], keyHint: nil, counters: counters)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(row)) as? [String: Any])
        #expect(object["routed"] as? Int == 3 && object["routing_savings_nanousd"] as? Int == 1_250_000_000)
        #expect(object["routing_savings_usd"] as? String == "1.250000000")
        #expect(try JSONDecoder().decode(UsageRow.self, from: JSONEncoder().encode(row)) == row)
    }
}

/// `tier` in usage queries: the premium-model share by team, from the aggregator's catalog.
@Suite struct UsageTiersTests {
    static func row(team: String, model: String, cost: Int64, bucket: String? = nil) -> UsageRow {
        var counters = UsageCounters()
        counters.requests = 1
        counters.cost = Nanodollars(cost)
        return UsageRow(dimensions: [.team: team, .model: model], keyHint: nil, counters: counters, bucket: bucket)
    }

    @Test func byTeamAndTierFoldsModelsIntoTheirTier() throws {
        var parameters = ["by": "team,tier", "since": "7d"]
        let tiers = try #require(try UsageTiers.extract(from: &parameters))
        #expect(parameters == ["by": "team,model", "since": "7d"] && tiers.grouped && tiers.addedModel && tiers.only == nil)
        let rows = tiers.apply([Self.row(team: "ml", model: "claude-opus-4-1", cost: 700), Self.row(team: "ml", model: "claude-haiku-4-5", cost: 100),
                                Self.row(team: "ml", model: "claude-sonnet-4-5", cost: 200), Self.row(team: "ml", model: "gpt-4.1", cost: 50),
                                Self.row(team: "web", model: "mystery-model", cost: 9)], catalog: PolicyAPITests.catalog)
        let byGroup = Dictionary(rows.map { ("\($0.dimensions[.team] ?? "")/\($0.tier ?? "")", $0.counters.cost.value) }, uniquingKeysWith: +)
        #expect(byGroup == ["ml/premium": 700, "ml/economy": 100, "ml/standard": 250, "web/untiered": 9])
        #expect(rows.allSatisfy { $0.dimensions[.model] == nil })
    }

    @Test func aTierFilterKeepsOnlyItsModels() throws {
        var parameters = ["by": "team,model", "tier": "premium"]
        let tiers = try #require(try UsageTiers.extract(from: &parameters))
        #expect(parameters == ["by": "team,model"] && !tiers.grouped && !tiers.addedModel)
        let rows = tiers.apply([Self.row(team: "ml", model: "claude-opus-4-1", cost: 700), Self.row(team: "ml", model: "claude-haiku-4-5", cost: 100)],
                               catalog: PolicyAPITests.catalog)
        #expect(rows.map { $0.dimensions[.model] } == ["claude-opus-4-1"] && rows[0].tier == nil)
        var none = ["by": "team"]
        #expect(try UsageTiers.extract(from: &none) == nil && none == ["by": "team"])
        var bad = ["tier": "gold"]
        #expect(throws: UsageQueryError.self) { try UsageTiers.extract(from: &bad) }
    }
}
