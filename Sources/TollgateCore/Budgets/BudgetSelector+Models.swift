/// A selector's `model=` names a canonical model, whatever name the operator typed.
///
/// The aggregator resolves the value once, when the budget is set, and stores and pushes
/// the canonical id; agents then compare it with each request's canonical model, and the
/// aggregator's tally with each cell's. Resolving at both ends on every match would cost a
/// catalog search per cell, and two catalogs that disagreed would count different calls.
extension BudgetSelector {
    /// The selector with its `model` value replaced by the canonical model. A model the
    /// catalog does not know is refused with the list of those it does: a typo would
    /// otherwise make a budget that silently never matches. `served_model` and
    /// `requested_model` are compared as written (they are the names on the wire).
    public func resolvingModels(with catalog: PriceCatalog) throws -> BudgetSelector {
        guard let at = conditions.firstIndex(where: { $0.dimension == .model }) else { return self }
        let value = conditions[at].value
        let resolution = catalog.resolve(value)
        guard resolution.isKnown else {
            throw UnknownModelError(selector: description, model: value, known: Self.knownModels(catalog, near: value))
        }
        var resolved = conditions
        resolved[at].value = resolution.canonical
        return BudgetSelector(conditions: resolved)
    }

    /// All known models when they are few; with LiteLLM's file (thousands) those sharing the
    /// name's family prefix, and how many there are in all.
    static func knownModels(_ catalog: PriceCatalog, near value: String) -> String {
        let known = catalog.canonicalModels
        let listed = 60
        if known.count <= listed { return "known models: \(known.joined(separator: ", ")) (`tollgate models` lists their other names)" }
        let family = PriceCatalog.bareName(PriceCatalog.withoutPathPrefix(value)).split(separator: "-").first.map(String.init) ?? ""
        let near = known.filter { !family.isEmpty && $0.hasPrefix(family) }.prefix(listed)
        let shown = near.isEmpty ? "" : "known models like it: \(near.joined(separator: ", ")); "
        return "\(shown)\(known.count) models are known (`tollgate models` lists them: the built-in catalog, pricing.litellm_file and pricing.catalog, where a deployment declares its own models and aliases)"
    }
}

/// A budget's selector named a model no catalog entry or alias knows.
public struct UnknownModelError: Error, CustomStringConvertible, Equatable {
    public var selector: String
    public var model: String
    /// The known models, or those like `model` when there are many.
    public var known: String

    public var description: String {
        "selector '\(selector)' names model '\(model)', which the price catalog does not know; \(known). Name the model by its catalog id, an alias or a snapshot, or declare it under pricing.catalog on the aggregator and agents."
    }
}
