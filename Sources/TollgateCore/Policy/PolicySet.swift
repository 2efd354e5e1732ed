/// The policies an agent enforces, ordered for evaluation, and the one decision rule.
///
/// At most one rewrite applies to a request: an active downgrade first (budget pressure
/// wins), else the first route, policies taken in id order. Then `deny` and `allow` judge
/// the model the request will actually use, so a route to an economy model satisfies "no
/// premium in dev". Dry-run policies are evaluated in the same places but change nothing.
public struct PolicySet: Sendable, Equatable {
    public private(set) var policies: [Policy]
    private var rewriters: [Policy]
    private var gates: [Policy]

    public static let empty = PolicySet([])

    public init(_ policies: [Policy]) {
        self.policies = policies.sorted { $0.id < $1.id }
        // Downgrades before routes: a budget under pressure decides before the everyday route.
        rewriters = self.policies.filter { $0.kind == .downgrade } + self.policies.filter { $0.kind == .route }
        gates = self.policies.filter { !$0.kind.rewrites }
    }

    public var isEmpty: Bool { policies.isEmpty }

    /// Budget use as the agent sees it (pushed spend plus its own), for downgrades.
    public struct BudgetUse: Sendable, Equatable {
        public var spent: Int64
        public var limit: Int64

        public init(spent: Int64, limit: Int64) {
            self.spent = spent
            self.limit = limit
        }

        /// Whether `spent` is at least `percent` % of `limit`, in integers (no rounding at the line).
        public func reaches(percent: Int) -> Bool {
            guard limit > 0 else { return true }
            let (scaledSpent, overflowA) = spent.multipliedReportingOverflow(by: 100)
            let (scaledLimit, overflowB) = limit.multipliedReportingOverflow(by: Int64(percent))
            if overflowA || overflowB { return Double(spent) * 100 >= Double(limit) * Double(percent) }
            return scaledSpent >= scaledLimit
        }
    }

    /// - Parameters:
    ///   - dimensions: the request's attribution (its `model` the requested canonical model).
    ///   - requested: the requested model's facts.
    ///   - facts: facts of a model named by a policy (a route's target).
    ///   - budgetUse: a budget's current use; nil when the agent holds no such budget (a
    ///     downgrade on it then does nothing).
    public func decide(dimensions: Dimensions, requested: ModelFacts, nowUnix: Int64,
                       facts: (String) -> ModelFacts, budgetUse: (String) -> BudgetUse?) -> PolicyDecision {
        var decision = PolicyDecision()
        guard !policies.isEmpty else { return decision }
        var served = requested
        for policy in rewriters where policy.target != served.canonical && policy.matchesModel(served)
            && policy.applies(to: dimensions, nowUnix: nowUnix) {
            let target = facts(policy.target)
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
        for policy in gates where policy.applies(to: dimensions, nowUnix: nowUnix) {
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
}
