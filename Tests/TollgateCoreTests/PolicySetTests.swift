import Testing
import TollgateCore

/// The decision rule of `PolicySet` on a small catalog with tiers.
struct PolicySetTests {
    static let catalog = try! PriceCatalog(yaml: """
    models:
      claude-opus-4-1: {provider: anthropic, input: 15, output: 75, tier: premium}
      claude-sonnet-4-5: {provider: anthropic, input: 3, output: 15, tier: standard}
      claude-haiku-4-5: {provider: anthropic, input: 1, output: 5, tier: economy}
      gpt-4.1: {provider: openai, input: 2, output: 8, tier: standard}
      gpt-4.1-mini: {provider: openai, input: 0.4, output: 1.6, tier: economy}
    """, source: "test")

    func decide(_ set: PolicySet, model: String, _ pairs: [(UsageDimension, String)] = [], now: Int64 = 1_000,
                use: [String: PolicySet.BudgetUse] = [:]) -> PolicyDecision {
        var dimensions = Dimensions()
        for (dimension, value) in pairs { dimensions[dimension] = value }
        let requested = Self.catalog.facts(of: model)
        dimensions.model = requested.canonical
        return set.decide(dimensions: dimensions, requested: requested, nowUnix: now,
                          facts: { Self.catalog.facts(of: $0) }, budgetUse: { use[$0] })
    }

    func pattern(_ text: String) -> ModelPattern { try! ModelPattern(parsing: text) }

    @Test func routeAppliesInScopeToTheSameProviderOnly() throws {
        let set = PolicySet([Policy(id: "autocomplete", kind: .route, scope: try BudgetSelector(parsing: "use_case=autocomplete"),
                                    models: [pattern("*")], target: "claude-haiku-4-5")])
        let routed = decide(set, model: "claude-opus-4-1-20250805", [(.useCase, "autocomplete")])
        #expect(routed.route == .init(policyID: "autocomplete", kind: .route, from: "claude-opus-4-1", to: "claude-haiku-4-5"))
        #expect(decide(set, model: "claude-opus-4-1", [(.useCase, "review")]).isPass)
        // An OpenAI request keeps its wire format: the route names an Anthropic model.
        #expect(decide(set, model: "gpt-4.1", [(.useCase, "autocomplete")]).isPass)
        // Already the target: nothing to do.
        #expect(decide(set, model: "claude-haiku-4-5", [(.useCase, "autocomplete")]).isPass)
    }

    @Test func denyJudgesTheModelAfterTheRoute() throws {
        let dev = try BudgetSelector(parsing: "env=dev")
        let set = PolicySet([
            Policy(id: "no-premium-in-dev", kind: .deny, scope: dev, models: [pattern("tier:premium")], owner: "finops@example.com",
                   exceptionPath: "#finops-help"),
            Policy(id: "summaries", kind: .route, scope: try BudgetSelector(parsing: "use_case=summarise"),
                   models: [pattern("claude-*")], target: "claude-haiku-4-5"),
        ])
        let refused = try #require(decide(set, model: "claude-opus-4-1", [(.environment, "dev")]).refusal)
        #expect(refused.policyID == "no-premium-in-dev")
        #expect(refused.message.contains("finops@example.com") && refused.message.contains("#finops-help"))
        // Routed to an economy model first: allowed.
        let routed = decide(set, model: "claude-opus-4-1", [(.environment, "dev"), (.useCase, "summarise")])
        #expect(routed.refusal == nil && routed.route?.to == "claude-haiku-4-5")
        #expect(decide(set, model: "claude-opus-4-1", [(.environment, "prod")]).isPass)
    }

    @Test func allowRefusesWhatItDoesNotList() {
        let set = PolicySet([Policy(id: "ci-economy", kind: .allow, scope: try! BudgetSelector(parsing: "env=ci"),
                                    models: [pattern("tier:economy")])])
        #expect(decide(set, model: "gpt-4.1-mini", [(.environment, "ci")]).isPass)
        #expect(decide(set, model: "gpt-4.1", [(.environment, "ci")]).refusal?.policyID == "ci-economy")
        // A model the catalog does not know has no tier: not allowed.
        #expect(decide(set, model: "some-new-model", [(.environment, "ci")]).refusal != nil)
    }

    @Test func downgradeOnlyFromItsThreshold() {
        let set = PolicySet([
            Policy(id: "save", kind: .downgrade, models: [pattern("gpt-4.1")], target: "gpt-4.1-mini", budgetID: "org", thresholdPercent: 80),
            Policy(id: "z-route", kind: .route, models: [pattern("gpt-4.1")], target: "gpt-4.1", mode: .enforce),
        ])
        #expect(decide(set, model: "gpt-4.1", use: ["org": .init(spent: 79, limit: 100)]).isPass)
        #expect(decide(set, model: "gpt-4.1", use: ["org": .init(spent: 80, limit: 100)]).route?.to == "gpt-4.1-mini")
        // A budget the agent does not hold switches nothing on.
        #expect(decide(set, model: "gpt-4.1").isPass)
    }

    @Test func dryRunCountsWithoutChangingTheRequest() {
        let set = PolicySet([
            Policy(id: "try-route", kind: .route, models: [pattern("gpt-4.1")], target: "gpt-4.1-mini", mode: .dryRun),
            Policy(id: "try-deny", kind: .deny, models: [pattern("provider:openai")], mode: .dryRun),
        ])
        let decision = decide(set, model: "gpt-4.1")
        #expect(decision.isPass)
        #expect(decision.dryRun == [.init(policyID: "try-route", action: .routed), .init(policyID: "try-deny", action: .refused)])
    }

    @Test func exceptionsEndAtTheirTime() throws {
        let exception = PolicyException(scope: try BudgetSelector(parsing: "team=research"), untilUnix: 2_000, reason: "eval run",
                                        author: "ana", createdUnix: 900)
        let set = PolicySet([Policy(id: "no-premium", kind: .deny, models: [pattern("tier:premium")], exceptions: [exception])])
        #expect(decide(set, model: "claude-opus-4-1", [(.team, "research")], now: 1_999).isPass)
        #expect(decide(set, model: "claude-opus-4-1", [(.team, "research")], now: 2_000).refusal != nil)
        #expect(decide(set, model: "claude-opus-4-1", [(.team, "web")], now: 1_000).refusal != nil)
    }

    @Test func budgetUseComparesInIntegers() {
        #expect(PolicySet.BudgetUse(spent: 8_000_000_000, limit: 10_000_000_000).reaches(percent: 80))
        #expect(!PolicySet.BudgetUse(spent: 7_999_999_999, limit: 10_000_000_000).reaches(percent: 80))
        #expect(PolicySet.BudgetUse(spent: Int64.max / 2, limit: Int64.max).reaches(percent: 50))
    }
}

struct PolicyValidatorTests {
    let validator = PolicyValidator(catalog: PolicySetTests.catalog, budgetIDs: ["org"])

    func pattern(_ text: String) -> ModelPattern { try! ModelPattern(parsing: text) }

    @Test func resolvesModelsToCanonicalIDs() throws {
        let policy = try validator.validated(Policy(id: "r", kind: .route, models: [pattern("claude-opus-4-1-20250805")],
                                                    target: "claude-haiku-4-5-20251001"), others: [], nowUnix: 0)
        #expect(policy.models == [.model("claude-opus-4-1")] && policy.target == "claude-haiku-4-5")
    }

    @Test func refusesWhatAnAgentCouldNotApply() {
        func refused(_ policy: Policy, others: [Policy] = [], containing text: String) {
            #expect(throws: PolicyError.self) { try validator.validated(policy, others: others, nowUnix: 0) }
            do {
                _ = try validator.validated(policy, others: others, nowUnix: 0)
            } catch {
                #expect("\(error)".contains(text), "\(error)")
            }
        }
        refused(Policy(id: "x", kind: .route, models: [pattern("gpt-4.1")], target: "gpt-9"), containing: "target model 'gpt-9'")
        refused(Policy(id: "x", kind: .route, models: [pattern("gpt-4.1")], target: "claude-haiku-4-5"), containing: "cannot cross providers")
        refused(Policy(id: "x", kind: .route, models: [pattern("provider:openai")], target: "claude-haiku-4-5"), containing: "cannot cross providers")
        refused(Policy(id: "x", kind: .deny, models: [pattern("gpt-5-turbo")]), containing: "not in the price catalog")
        refused(Policy(id: "x", kind: .deny, models: []), containing: "no models")
        refused(Policy(id: "bad id", kind: .deny, models: [pattern("*")]), containing: "not valid")
        refused(Policy(id: "x", kind: .downgrade, models: [pattern("gpt-4.1")], target: "gpt-4.1-mini", budgetID: "nope", thresholdPercent: 80),
                containing: "budget 'nope' does not exist")
        refused(Policy(id: "x", kind: .downgrade, models: [pattern("gpt-4.1")], target: "gpt-4.1-mini", budgetID: "org", thresholdPercent: 0),
                containing: "expected 1–100")
        let up = Policy(id: "up", kind: .route, models: [pattern("claude-haiku-4-5")], target: "claude-sonnet-4-5")
        refused(Policy(id: "down", kind: .route, models: [pattern("claude-sonnet-4-5")], target: "claude-haiku-4-5"), others: [up],
                containing: "loop")
    }

    @Test func patternsParseAndPrintBack() throws {
        for text in ["*", "tier:premium", "provider:openai", "claude-*", "gpt-4.1"] {
            #expect(try ModelPattern(parsing: text).description == text)
        }
        #expect(throws: PolicyError.self) { try ModelPattern(parsing: "tier:gold") }
        #expect(throws: PolicyError.self) { try ModelPattern(parsing: "cl*ude") }
    }
}
