/// One spend policy, set on the aggregator and enforced by every agent before a request is
/// forwarded (DESIGN.md, "Policy"). Four kinds:
/// - `route`: requests in `scope` for a model matching `models` go to `target` instead;
/// - `downgrade`: the same, but only while `budgetID` is at or above `thresholdPercent` of
///   its limit (the budget itself still blocks at its limit);
/// - `allow`: requests in `scope` may use only models matching `models`;
/// - `deny`: requests in `scope` may not use models matching `models`.
///
/// A rewrite never crosses providers: the request keeps its wire format, its upstream and
/// its key, so `route` and `downgrade` apply only to requests of `target`'s provider.
public struct Policy: Hashable, Sendable, Codable {
    public enum Kind: String, CaseIterable, Sendable, Codable {
        case route, downgrade, allow, deny

        /// Changes the model rather than refusing.
        public var rewrites: Bool { self == .route || self == .downgrade }
    }

    public enum Mode: String, CaseIterable, Sendable, Codable {
        case enforce
        /// Changes no traffic: what the policy would have routed or refused is counted.
        case dryRun = "dry_run"
    }

    public var id: String
    public var kind: Kind
    /// Which requests the policy is about, by their attribution (`use_case=autocomplete`); `*` all.
    public var scope: BudgetSelector
    /// route/downgrade: the models rewritten; allow: the models allowed; deny: those refused.
    public var models: [ModelPattern]
    /// route/downgrade: the canonical model requests go to; empty otherwise.
    public var target: String
    /// downgrade: the budget whose use switches the rewrite on.
    public var budgetID: String
    /// downgrade: from this share of the budget's limit (1–100).
    public var thresholdPercent: Int
    public var mode: Mode
    /// Who answers for the policy; named in refusals.
    public var owner: String
    /// How to ask for an exception (a channel, a URL, a command); named in refusals.
    public var exceptionPath: String
    public var description: String
    public var exceptions: [PolicyException]

    public init(id: String, kind: Kind, scope: BudgetSelector = .all, models: [ModelPattern], target: String = "",
                budgetID: String = "", thresholdPercent: Int = 0, mode: Mode = .enforce, owner: String = "",
                exceptionPath: String = "", description: String = "", exceptions: [PolicyException] = []) {
        self.id = id
        self.kind = kind
        self.scope = scope
        self.models = models
        self.target = target
        self.budgetID = budgetID
        self.thresholdPercent = thresholdPercent
        self.mode = mode
        self.owner = owner
        self.exceptionPath = exceptionPath
        self.description = description
        self.exceptions = exceptions
    }

    /// Whether the policy speaks about this request at all: in scope, and no live exception covers it.
    public func applies(to dimensions: Dimensions, nowUnix: Int64) -> Bool {
        guard scope.matches(dimensions) else { return false }
        for index in exceptions.indices where exceptions[index].covers(dimensions, nowUnix: nowUnix) {
            return false
        }
        return true
    }

    public func matchesModel(_ facts: ModelFacts) -> Bool {
        models.contains { $0.matches(facts) }
    }
}
