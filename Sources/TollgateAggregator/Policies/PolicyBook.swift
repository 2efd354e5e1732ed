import NIOConcurrencyHelpers
import TollgateCore

/// Every spend policy, in memory (read by each quota snapshot and by the API), backed by the
/// store. A change is validated against the others (`PolicyValidator`: known models, one
/// provider, no loops, the downgrade's budget exists) before it is stored, so agents never
/// receive a policy the aggregator knows they cannot apply. Observers hear the whole set
/// after each change: the quota publisher diffs it against what agents hold and sends the
/// difference as a delta, like key labels.
///
/// `@unchecked Sendable`: policies and observers are behind their own locks.
public final class PolicyBook: @unchecked Sendable {
    private let store: UsageStore
    private let catalog: PriceCatalog
    private let clock: ServiceClock
    private let policies: NIOLockedValueBox<[String: Policy]>
    private let observers = NIOLockedValueBox<[@Sendable ([Policy]) -> Void]>([])
    /// Serialises changes (and budget removals, which a downgrade may forbid), so observers
    /// hear them in the order they were stored and a check is still true when acted on.
    private let changing = NIOLock()

    init(store: UsageStore, catalog: PriceCatalog, clock: ServiceClock = .system) throws {
        self.store = store
        self.catalog = catalog
        self.clock = clock
        policies = NIOLockedValueBox(Dictionary(try store.loadPolicies().map { ($0.id, $0) }, uniquingKeysWith: { $1 }))
    }

    public func policy(id: String) -> Policy? { policies.withLockedValue { $0[id] } }

    /// Every policy, by id.
    public func all() -> [Policy] { policies.withLockedValue { Array($0.values) }.sorted { $0.id < $1.id } }

    /// Policies stored by an earlier run that no longer pass validation (a model left the
    /// catalog, a budget went): each with the reason, for the log at start. They stay in
    /// force; agents that cannot apply one keep their previous version and say so.
    func invalidPolicies() -> [(id: String, reason: String)] {
        let budgets = Set(store.budgets().map(\.budget.id))
        let everything = all()
        let validator = PolicyValidator(catalog: catalog, budgetIDs: budgets)
        return everything.compactMap { policy in
            do {
                _ = try validator.validated(policy, others: everything, nowUnix: clock.unixSeconds)
                return nil
            } catch {
                return (policy.id, "\(error)")
            }
        }
    }

    /// Validates and stores `policy` (replacing one of the same id); returns the policy before
    /// and the one stored (canonical model ids, expired exceptions dropped). Unchanged: both equal.
    @discardableResult
    func set(_ policy: Policy) throws -> (before: Policy?, after: Policy) {
        try change { current in
            let budgets = Set(store.budgets().map(\.budget.id))
            let validated = try PolicyValidator(catalog: catalog, budgetIDs: budgets)
                .validated(policy, others: Array(current.values), nowUnix: clock.unixSeconds)
            return (current[policy.id], validated)
        }
    }

    /// Removes policy `id`; returns it, or nil when there was none.
    @discardableResult
    func remove(id: String) throws -> Policy? {
        try changing.withLock {
            guard let before = self.policy(id: id) else { return nil }
            try store.deletePolicy(id: id)
            policies.withLockedValue { $0[id] = nil }
            notify()
            return before
        }
    }

    /// Adds a time-boxed exception to policy `id`.
    @discardableResult
    func addException(_ exception: PolicyException, to id: String) throws -> (before: Policy?, after: Policy) {
        guard exception.untilUnix > clock.unixSeconds else {
            throw PolicyBookError.exceptionEnded(until: exception.untilUnix, now: clock.unixSeconds)
        }
        return try change(id: id) { policy in policy.exceptions.append(exception) }
    }

    /// Ends exception `index` (as `policy show` numbers them, from 0) of policy `id` now.
    @discardableResult
    func removeException(at index: Int, from id: String) throws -> (before: Policy?, after: Policy) {
        try change(id: id) { policy in
            guard policy.exceptions.indices.contains(index) else {
                throw PolicyBookError.unknownException(policy: id, index: index, count: policy.exceptions.count)
            }
            policy.exceptions.remove(at: index)
        }
    }

    /// Ids of the policies that name budget `budgetID` (downgrades).
    func naming(budgetID: String) -> [String] {
        all().filter { $0.budgetID == budgetID }.map(\.id)
    }

    /// Runs `remove` (a budget's removal) unless a policy names the budget; holding the
    /// change lock, so no downgrade naming it is set meanwhile.
    func removingBudget<T>(_ budgetID: String, _ remove: () throws -> T) throws -> T {
        try changing.withLock {
            let naming = naming(budgetID: budgetID)
            guard naming.isEmpty else { throw PolicyBookError.budgetInUse(budget: budgetID, policies: naming) }
            return try remove()
        }
    }

    /// Calls `observer` with `all()` now and after every change.
    func addObserver(_ observer: @escaping @Sendable ([Policy]) -> Void) {
        changing.withLock {
            observers.withLockedValue { $0.append(observer) }
            observer(all())
        }
    }

    private func change(id: String, _ edit: (inout Policy) throws -> Void) throws -> (before: Policy?, after: Policy) {
        try change { current in
            guard var policy = current[id] else { throw PolicyBookError.unknownPolicy(id) }
            try edit(&policy)
            let budgets = Set(store.budgets().map(\.budget.id))
            // Revalidated as a whole: an exception's reason and author are checked there, and
            // the exceptions that ended are dropped.
            let validated = try PolicyValidator(catalog: catalog, budgetIDs: budgets)
                .validated(policy, others: Array(current.values), nowUnix: clock.unixSeconds)
            return (current[id], validated)
        }
    }

    private func change(_ make: ([String: Policy]) throws -> (before: Policy?, after: Policy)) throws -> (before: Policy?, after: Policy) {
        try changing.withLock {
            let (before, after) = try make(policies.withLockedValue { $0 })
            guard before != after else { return (before, after) }
            try store.savePolicy(after)
            policies.withLockedValue { $0[after.id] = after }
            notify()
            return (before, after)
        }
    }

    /// Call with `changing` held.
    private func notify() {
        let everything = all()
        for observer in observers.withLockedValue({ $0 }) { observer(everything) }
    }
}

/// Why a policy change was refused, beyond `PolicyError`'s validation reasons.
public enum PolicyBookError: Error, CustomStringConvertible, Equatable {
    case unknownPolicy(String)
    case unknownException(policy: String, index: Int, count: Int)
    case exceptionEnded(until: Int64, now: Int64)
    case budgetInUse(budget: String, policies: [String])

    public var description: String {
        switch self {
        case .unknownPolicy(let id):
            "no policy '\(id)'; `tollgate policy list` (GET /v1/policies) shows them"
        case .unknownException(let policy, let index, let count):
            "policy '\(policy)' has no exception \(index); it has \(count) (numbered from 0 in `tollgate policy show \(policy)`)"
        case .exceptionEnded(let until, let now):
            "the exception's until (\(until)) is not in the future (now \(now)); give a later time, e.g. +7d or 2026-12-20"
        case .budgetInUse(let budget, let policies):
            "budget '\(budget)' is named by downgrade polic\(policies.count == 1 ? "y" : "ies") \(policies.map { "'\($0)'" }.joined(separator: ", ")); remove or change \(policies.count == 1 ? "it" : "them") first (tollgate policy rm)"
        }
    }
}
