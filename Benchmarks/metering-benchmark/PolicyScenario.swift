import TollgateCore

/// The policy step the agent runs before forwarding a request (`ExchangeAdmission` with a
/// `PolicyBook`): the requested model's facts from the catalog, then `PolicySet.decide` over
/// every pushed policy. 100 policies of a realistic mix, and a request that few of them
/// concern: 40 routes by use case, 20 "no premium tier" denies by environment, 10 allow
/// lists by team, 20 downgrades by team on their own budgets, 10 dry-run routes by project;
/// every tenth policy carries two exceptions. The request (gpt-4.1, team payments, use
/// case review, env prod, project checkout) is in the scope of one route, one deny, one
/// downgrade whose budget is below its threshold and one dry-run route; it is routed to
/// o4-mini and the deny judges that.
struct PolicyScenario {
    let catalog: PriceCatalog
    let set: PolicySet
    let dimensions: Dimensions
    let requestedName = "gpt-4.1-2025-04-14"
    let budgets: [String: PolicySet.BudgetUse]
    let nowUnix: Int64 = 1_800_000_000

    init(catalog: PriceCatalog, policies count: Int) {
        self.catalog = catalog
        var policies: [Policy] = []
        var budgets: [String: PolicySet.BudgetUse] = [:]
        func selector(_ text: String) -> BudgetSelector { try! BudgetSelector(parsing: text) }
        func pattern(_ text: String) -> ModelPattern { try! ModelPattern(parsing: text) }
        let useCases = ["review"] + (1..<40).map { "use-case-\($0)" }
        let teams = ["payments"] + (1..<30).map { "team-\($0)" }
        let environments = ["prod"] + (1..<20).map { "env-\($0)" }
        let projects = ["checkout"] + (1..<10).map { "project-\($0)" }
        for (index, useCase) in useCases.enumerated() {
            // Half for Anthropic's line-up, half for OpenAI's; the request's use case is an OpenAI one.
            let anthropic = index % 2 == 1
            policies.append(Policy(id: "route-\(useCase)", kind: .route, scope: selector("use_case=\(useCase)"),
                                   models: [pattern(anthropic ? "claude-*" : "tier:premium")],
                                   target: anthropic ? "claude-haiku-4-5" : "o4-mini", owner: "finops@example.com"))
        }
        for environment in environments {
            policies.append(Policy(id: "deny-premium-\(environment)", kind: .deny, scope: selector("env=\(environment)"),
                                   models: [pattern("tier:premium")], owner: "platform@example.com", exceptionPath: "#finops"))
        }
        for team in teams[10..<20] {
            policies.append(Policy(id: "allow-\(team)", kind: .allow, scope: selector("team=\(team)"),
                                   models: [pattern("tier:economy"), pattern("tier:standard")]))
        }
        for team in teams[0..<20] {
            let budget = "budget-\(team)"
            budgets[budget] = PolicySet.BudgetUse(spent: 50, limit: 100)
            policies.append(Policy(id: "downgrade-\(team)", kind: .downgrade, scope: selector("team=\(team)"),
                                   models: [pattern("tier:premium")], target: "gpt-4.1-mini", budgetID: budget, thresholdPercent: 80))
        }
        for project in projects {
            policies.append(Policy(id: "dry-\(project)", kind: .route, scope: selector("project=\(project)"),
                                   models: [pattern("gpt-4.1")], target: "gpt-4.1-nano", mode: .dryRun))
        }
        for index in stride(from: 0, to: policies.count, by: 10) {
            policies[index].exceptions = [
                PolicyException(scope: selector("user=alice@example.com"), untilUnix: 1_900_000_000, reason: "launch week", author: "cfo",
                                createdUnix: 1_700_000_000),
                PolicyException(scope: selector("project=research"), untilUnix: 1_700_000_500, reason: "expired", author: "cfo",
                                createdUnix: 1_700_000_000),
            ]
        }
        set = PolicySet(Array(policies.prefix(count)))
        self.budgets = budgets
        var dimensions = Dimensions()
        dimensions.provider = "openai"
        dimensions.keyID = "k_0123456789abcdef"
        dimensions.team = "payments"
        dimensions.useCase = "review"
        dimensions.environment = "prod"
        dimensions.project = "checkout"
        dimensions.user = "bob@example.com"
        dimensions.requestedModel = requestedName
        dimensions.model = catalog.canonicalModel(requestedName)
        self.dimensions = dimensions
    }

    /// What the agent does per request; returns a number that depends on the decision.
    func evaluate() -> Int {
        guard !set.isEmpty else { return 0 }
        let requested = catalog.facts(of: requestedName)
        let decision = set.decide(dimensions: dimensions, requested: requested, nowUnix: nowUnix,
                                  facts: { catalog.facts(of: $0) }, budgetUse: { budgets[$0] })
        return (decision.route?.to.utf8.count ?? 0) + (decision.refusal == nil ? 0 : 100) + decision.dryRun.count
    }
}
