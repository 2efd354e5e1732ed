/// The checks a policy passes before the aggregator accepts it, so an agent never receives
/// one it cannot apply: a route to a model no catalog knows, across providers (the request
/// would reach the wrong API with the wrong key), or in a loop with other routes.
public struct PolicyValidator: Sendable {
    public let catalog: PriceCatalog
    /// Budgets a downgrade may name.
    public let budgetIDs: Set<String>

    public init(catalog: PriceCatalog, budgetIDs: Set<String>) {
        self.catalog = catalog
        self.budgetIDs = budgetIDs
    }

    /// The policy as it will be stored and pushed (exact model names made canonical), or
    /// the reason it is refused. `others` are the policies already set (one with the same
    /// id is replaced by this one).
    public func validated(_ policy: Policy, others: [Policy], nowUnix: Int64) throws -> Policy {
        guard Self.isValidID(policy.id) else { throw PolicyError.invalidID(policy.id) }
        var policy = policy
        func fail(_ reason: String) -> PolicyError { .invalid(policy: policy.id, reason: reason) }
        guard !policy.models.isEmpty else {
            throw fail("no models: name the models it is about (a model, tier:premium, provider:openai, claude-* or *)")
        }
        policy.scope = try policy.scope.resolvingModels(with: catalog)
        policy.models = try policy.models.map { pattern in
            guard case .model(let name) = pattern else { return pattern }
            let resolution = catalog.resolve(name)
            guard resolution.isKnown else {
                throw fail("model '\(name)' is not in the price catalog; \(BudgetSelector.knownModels(catalog, near: name))")
            }
            return .model(resolution.canonical)
        }
        if policy.kind.rewrites {
            guard !policy.target.isEmpty else { throw fail("a \(policy.kind.rawValue) needs a target model (--to)") }
            let target = catalog.resolve(policy.target)
            guard target.isKnown else {
                throw fail("target model '\(policy.target)' is not in the price catalog; \(BudgetSelector.knownModels(catalog, near: policy.target))")
            }
            policy.target = target.canonical
            let provider = catalog.facts(of: target.canonical).provider
            for pattern in policy.models {
                switch pattern {
                case .model(let name) where catalog.facts(of: name).provider != provider:
                    throw fail("routes '\(name)' (\(catalog.facts(of: name).provider)) to '\(target.canonical)' (\(provider)): a route cannot cross providers (it keeps the request's wire format, key and upstream)")
                case .provider(let other) where other != provider:
                    throw fail("routes provider:\(other) to '\(target.canonical)' (\(provider)): a route cannot cross providers")
                default: break
                }
            }
        } else if !policy.target.isEmpty {
            throw fail("an \(policy.kind.rawValue) policy refuses or admits; it has no target model")
        }
        if policy.kind == .downgrade {
            guard budgetIDs.contains(policy.budgetID) else {
                throw fail(policy.budgetID.isEmpty ? "a downgrade needs a budget (--budget)"
                           : "budget '\(policy.budgetID)' does not exist (`tollgate budget list` shows them)")
            }
            guard (1...100).contains(policy.thresholdPercent) else {
                throw fail("threshold \(policy.thresholdPercent) % is out of range; expected 1–100 (% of the budget's limit)")
            }
        } else if !policy.budgetID.isEmpty {
            throw fail("only a downgrade names a budget")
        }
        for exception in policy.exceptions {
            guard !exception.reason.isEmpty, !exception.author.isEmpty else {
                throw fail("an exception needs a reason and an author")
            }
        }
        policy.exceptions = policy.exceptions.filter { $0.untilUnix > nowUnix }
        try checkLoops(with: policy, others: others)
        return policy
    }

    /// Rewrites form edges model → target over the catalog's models; a cycle is a loop.
    private func checkLoops(with policy: Policy, others: [Policy]) throws {
        let rewriters = (others.filter { $0.id != policy.id } + [policy]).filter { $0.kind.rewrites }
        guard rewriters.contains(where: { $0.id == policy.id }) else { return }
        let models = catalog.canonicalModels.map { catalog.facts(of: $0) }
        var edges: [String: [(to: String, policy: String)]] = [:]
        for rewriter in rewriters {
            let provider = catalog.facts(of: rewriter.target).provider
            for model in models where model.provider == provider && model.canonical != rewriter.target && rewriter.matchesModel(model) {
                edges[model.canonical, default: []].append((rewriter.target, rewriter.id))
            }
        }
        // Depth-first search from the new policy's target: a path back to one of its
        // sources closes a loop through it.
        let sources = Set(edges.compactMap { source, outgoing in outgoing.contains { $0.policy == policy.id } ? source : nil })
        var path: [(model: String, policy: String)] = []
        var visited: Set<String> = []
        func visit(_ model: String) -> Bool {
            if sources.contains(model) { return true }
            guard visited.insert(model).inserted else { return false }
            for edge in edges[model] ?? [] {
                path.append((edge.to, edge.policy))
                if visit(edge.to) { return true }
                path.removeLast()
            }
            return false
        }
        path.append((policy.target, policy.id))
        if visit(policy.target), let source = path.last?.model {
            // source → target → … → source
            throw PolicyError.loop(policies: Set(path.map(\.policy)).sorted(), models: [source] + path.map(\.model))
        }
    }

    static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.count) && id.unicodeScalars.allSatisfy {
            ($0.value < 128 && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) || "-_.".unicodeScalars.contains($0)
        }
    }
}
