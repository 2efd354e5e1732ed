import Foundation
import Testing
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

/// The agent keeps the policies it can apply: a snapshot replaces them, a delta changes
/// some, and a version it cannot apply leaves the previous one in force and is reported
/// until a later version applies.
@Suite struct PolicyBookTests {
    let book = PolicyBook(catalog: DefaultPriceCatalog.load())

    static func route(_ id: String, from models: [String] = ["claude-*"], to target: String = "claude-haiku-4-5",
                      scope: String = "use_case=autocomplete") throws -> Policy {
        Policy(id: id, kind: .route, scope: try BudgetSelector(parsing: scope), models: try models.map(ModelPattern.init(parsing:)),
               target: target, owner: "platform")
    }

    static func update(_ version: UInt64, snapshot: Bool, policies: [Policy] = [], removed: [String] = [],
                       unreadable: [PolicyRejection] = []) -> QuotaUpdateMessage {
        var update = QuotaUpdateMessage(version: version, isSnapshot: snapshot, budgets: [], issuedAtMilliseconds: 0)
        update.policies = policies
        update.removedPolicyIDs = removed
        update.unreadablePolicies = unreadable
        return update
    }

    @Test func aSnapshotReplacesAndADeltaUpsertsAndRemoves() throws {
        book.apply(Self.update(1, snapshot: true, policies: [try Self.route("a"), try Self.route("b")]))
        #expect(book.set.policies.map(\.id) == ["a", "b"])
        book.apply(Self.update(2, snapshot: false, policies: [try Self.route("c", to: "claude-sonnet-4-5")], removed: ["a"]))
        #expect(book.set.policies.map(\.id) == ["b", "c"])
        book.apply(Self.update(3, snapshot: true, policies: [try Self.route("d")]))
        #expect(book.set.policies.map(\.id) == ["d"])
        // A delta about budgets only leaves the policies as they are.
        book.apply(Self.update(4, snapshot: false))
        #expect(book.count == 1)
    }

    @Test func modelNamesAreMadeThisCatalogsCanonicalIDs() throws {
        book.apply(Self.update(1, snapshot: true, policies: [try Self.route("a", from: ["claude-opus-4-0"], to: "claude-haiku-4-5-20251001")]))
        let policy = try #require(book.set.policies.first)
        #expect(policy.models == [.model("claude-opus-4")])
        #expect(policy.target == "claude-haiku-4-5")
    }

    @Test func aVersionThisAgentCannotApplyKeepsThePreviousOneAndIsReportedUntilALaterOneApplies() throws {
        let good = try Self.route("r")
        #expect(book.apply(Self.update(1, snapshot: true, policies: [good])).isEmpty)
        let unknownTarget = try Self.route("r", to: "claude-future-9")
        let first = book.apply(Self.update(2, snapshot: false, policies: [unknownTarget]))
        #expect(first.map(\.policyID) == ["r"])
        #expect(first.first?.reason.contains("claude-future-9") == true)
        #expect(book.set.policies == [good])
        #expect(book.rejections.map(\.policyID) == ["r"])
        // The same version again (a snapshot repeats it): still kept out, announced once only.
        #expect(book.apply(Self.update(3, snapshot: true, policies: [unknownTarget])).isEmpty)
        #expect(book.set.policies == [good] && book.rejections.count == 1)
        // A later version that applies clears the rejection.
        let better = try Self.route("r", to: "claude-sonnet-4-5")
        book.apply(Self.update(4, snapshot: false, policies: [better]))
        #expect(book.set.policies.map(\.target) == ["claude-sonnet-4-5"] && book.rejections.isEmpty)
    }

    @Test func crossProviderRoutesAndUnreadablePoliciesAreRejected() throws {
        let crossing = try Self.route("x", from: ["gpt-4.1"], to: "claude-haiku-4-5")
        let rejected = book.apply(Self.update(1, snapshot: true, policies: [crossing],
                                              unreadable: [PolicyRejection(policyID: "y", reason: "unknown kind 'steer'")]))
        #expect(rejected.map(\.policyID) == ["x", "y"])
        #expect(rejected[0].reason.contains("cannot cross providers"))
        #expect(book.set.isEmpty && book.rejections.map(\.policyID) == ["x", "y"])
        // Removing the id ends its rejection.
        book.apply(Self.update(2, snapshot: false, removed: ["x"]))
        #expect(book.rejections.map(\.policyID) == ["y"])
        // A snapshot without it ends the other.
        book.apply(Self.update(3, snapshot: true))
        #expect(book.rejections.isEmpty)
    }

    @Test func hitsAreCountedPerPolicyAndAction() {
        book.count(PolicyDecision(route: .init(policyID: "r", kind: .route, from: "a", to: "b"),
                                  dryRun: [.init(policyID: "d", action: .refused)]))
        book.count(PolicyDecision(refusal: .init(policyID: "n", kind: .deny, model: "m", owner: "", exceptionPath: "", scope: "*"),
                                  dryRun: [.init(policyID: "d", action: .routed)]))
        book.count(PolicyDecision())
        #expect(book.hits == [PolicyHitCounts(policyID: "d", dryRunRouted: 1, dryRunRefused: 1),
                              PolicyHitCounts(policyID: "n", refused: 1), PolicyHitCounts(policyID: "r", routed: 1)])
    }
}
