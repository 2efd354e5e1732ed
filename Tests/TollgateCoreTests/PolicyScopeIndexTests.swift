import Testing
import TestSupport
@testable import TollgateCore

/// `PolicySet` visits only the policies its scope index files under the request's
/// dimensions. Held to the plain rule (every policy, in order) on seeded random policy sets
/// and requests: the index may only skip work, never change a decision.
struct PolicyScopeIndexTests {
    static let catalog = PolicySetTests.catalog
    static let models = ["claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-4.1", "gpt-4.1-mini"]
    static let dimensions: [UsageDimension] = [.team, .useCase, .environment, .project, .user, .model]
    static let values = ["a", "b", "c"]

    /// The decision rule without an index: every rewriter, then every gate, in order.
    static func reference(_ policies: [Policy], dimensions: Dimensions, requested: ModelFacts, nowUnix: Int64,
                          budgetUse: (String) -> PolicySet.BudgetUse?) -> PolicyDecision {
        let sorted = policies.sorted { $0.id < $1.id }
        let rewriters = sorted.filter { $0.kind == .downgrade } + sorted.filter { $0.kind == .route }
        var decision = PolicyDecision()
        var served = requested
        for policy in rewriters where policy.target != served.canonical && policy.matchesModel(served)
            && policy.applies(to: dimensions, nowUnix: nowUnix) {
            let target = catalog.facts(of: policy.target)
            guard target.provider == served.provider, !served.provider.isEmpty else { continue }
            if policy.kind == .downgrade {
                guard let use = budgetUse(policy.budgetID), use.reaches(percent: policy.thresholdPercent) else { continue }
            }
            if policy.mode == .dryRun {
                decision.dryRun.append(.init(policyID: policy.id, action: .routed))
                continue
            }
            decision.route = .init(policyID: policy.id, kind: policy.kind, from: served.canonical, to: target.canonical)
            served = target
            break
        }
        for policy in sorted where !policy.kind.rewrites && policy.applies(to: dimensions, nowUnix: nowUnix) {
            let listed = policy.matchesModel(served)
            guard policy.kind == .deny ? listed : !listed else { continue }
            if policy.mode == .dryRun {
                decision.dryRun.append(.init(policyID: policy.id, action: .refused))
                continue
            }
            decision.refusal = .init(policyID: policy.id, kind: policy.kind, model: served.canonical, owner: policy.owner,
                                     exceptionPath: policy.exceptionPath, scope: policy.scope.description)
            break
        }
        return decision
    }

    static func randomSelector(_ random: inout SplitMix64, maxConditions: Int) -> BudgetSelector {
        let count = Int.random(in: 0...maxConditions, using: &random)
        let chosen = dimensions.shuffled(using: &random).prefix(count)
        return BudgetSelector(conditions: chosen.map { dimension in
            .init(dimension, dimension == .model ? models.randomElement(using: &random)! : values.randomElement(using: &random)!)
        })
    }

    static func randomPolicy(_ index: Int, _ random: inout SplitMix64) -> Policy {
        let kind = Policy.Kind.allCases.randomElement(using: &random)!
        let patterns = ["*", "tier:premium", "tier:economy", "tier:standard", "claude-*", "provider:openai", "gpt-4.1"] + models
        let modelPatterns = (0..<Int.random(in: 1...2, using: &random)).map { _ in
            try! ModelPattern(parsing: patterns.randomElement(using: &random)!)
        }
        var policy = Policy(id: "p\(Int.random(in: 0..<1000, using: &random))-\(index)", kind: kind,
                            scope: randomSelector(&random, maxConditions: 2), models: modelPatterns,
                            target: kind.rewrites ? models.randomElement(using: &random)! : "",
                            budgetID: kind == .downgrade ? "b\(Int.random(in: 0..<3, using: &random))" : "",
                            thresholdPercent: kind == .downgrade ? Int.random(in: 1...100, using: &random) : 0,
                            mode: Int.random(in: 0..<4, using: &random) == 0 ? .dryRun : .enforce, owner: "o")
        if Int.random(in: 0..<4, using: &random) == 0 {
            policy.exceptions = [PolicyException(scope: randomSelector(&random, maxConditions: 1), untilUnix: Int64.random(in: 500...1_500, using: &random),
                                                 reason: "r", author: "a", createdUnix: 0)]
        }
        return policy
    }

    @Test func theIndexedSetDecidesExactlyAsEveryPolicyInOrder() {
        var random = SplitMix64(seed: 20)
        var decisions = 0
        var routed = 0
        var refused = 0
        for _ in 0..<200 {
            let policies = (0..<Int.random(in: 0...30, using: &random)).map { Self.randomPolicy($0, &random) }
            let set = PolicySet(policies)
            let use = (0..<3).reduce(into: [String: PolicySet.BudgetUse]()) { $0["b\($1)"] = .init(spent: Int64.random(in: 0...120, using: &random), limit: 100) }
            for _ in 0..<20 {
                var dimensions = Dimensions()
                for dimension in Self.dimensions where dimension != .model && Int.random(in: 0..<4, using: &random) > 0 {
                    dimensions[dimension] = Self.values.randomElement(using: &random)!
                }
                let requested = Self.catalog.facts(of: Self.models.randomElement(using: &random)!)
                dimensions.model = requested.canonical
                let now = Int64.random(in: 0...2_000, using: &random)
                let indexed = set.decide(dimensions: dimensions, requested: requested, nowUnix: now,
                                         facts: { Self.catalog.facts(of: $0) }, budgetUse: { use[$0] })
                let plain = Self.reference(policies, dimensions: dimensions, requested: requested, nowUnix: now, budgetUse: { use[$0] })
                #expect(indexed == plain, "\(policies) on \(dimensions)")
                decisions += 1
                routed += indexed.route == nil ? 0 : 1
                refused += indexed.refusal == nil ? 0 : 1
            }
        }
        // The generated cases exercise both outcomes, not only passes.
        #expect(routed > 100 && refused > 100, "\(decisions) decisions: \(routed) routed, \(refused) refused")
    }

    @Test func candidatesAreInPolicyOrderAndCoverEveryPolicyInScope() throws {
        let policies = [
            Policy(id: "a", kind: .deny, scope: .all, models: [.any]),
            Policy(id: "b", kind: .deny, scope: try BudgetSelector(parsing: "team=ml"), models: [.any]),
            Policy(id: "c", kind: .deny, scope: try BudgetSelector(parsing: "env=dev,team=ml"), models: [.any]),
            Policy(id: "d", kind: .deny, scope: try BudgetSelector(parsing: "use_case=review"), models: [.any]),
            Policy(id: "e", kind: .deny, scope: .all, models: [.any]),
        ]
        let index = PolicyScopeIndex(policies)
        var request = Dimensions()
        request.team = "ml"
        request.useCase = "review"
        let candidates = index.candidates(for: request)
        #expect(candidates == candidates.sorted())
        #expect(Set(candidates).isSuperset(of: policies.indices.filter { policies[$0].scope.matches(request) }))
        #expect(Set(candidates.map { policies[$0].id }).isSuperset(of: ["a", "b", "d", "e"]))
        request.team = "web"
        request.useCase = ""
        #expect(index.candidates(for: request).map { policies[$0].id } == ["a", "e"])
    }
}
