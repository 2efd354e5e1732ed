import TollgateCore

extension BudgetBoard {
    /// What `resolveStoredModels` did: budgets rewritten to the canonical model, and those
    /// naming a model the catalog does not know (left as they are: they match that exact name).
    public struct ModelResolutionReport: Equatable, Sendable {
        public var rewritten: [String] = []
        public var unknown: [String] = []
    }

    /// Rewrites the `model=` of stored budgets to the canonical model, at start.
    ///
    /// Budgets set before models had one identity (or under a catalog that has changed
    /// since) may name a snapshot or an alias, which no request's canonical model equals:
    /// such a budget would count and block nothing. Rewriting goes through `setBudget`, so
    /// the current window is recounted under the new selector.
    @discardableResult
    public func resolveStoredModels(with catalog: PriceCatalog) throws -> ModelResolutionReport {
        var report = ModelResolutionReport()
        for stored in store.budgets().sorted(by: { $0.budget.id < $1.budget.id }) {
            var budget = stored.budget
            do {
                budget.selector = try budget.selector.resolvingModels(with: catalog)
            } catch is UnknownModelError {
                report.unknown.append(budget.id)
                continue
            }
            guard budget.selector != stored.budget.selector else { continue }
            try setBudget(budget)
            report.rewritten.append(budget.id)
        }
        return report
    }
}
