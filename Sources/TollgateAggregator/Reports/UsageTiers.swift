import TollgateCore

/// `tier` in `/v1/usage` (`by=team,tier`, `tier=premium`): not a stored dimension but the
/// served model's tier in the aggregator's price catalog (deployment overrides included), so
/// a FinOps analyst reads the premium-model share by team, and a change of tiers applies to
/// history at once. The query groups by model to learn each row's tier, then folds the model
/// away again when it was not asked for.
struct UsageTiers: Equatable {
    /// Rows whose model the catalog gives no tier (or that carry no model: blocked requests).
    static let untiered = "untiered"
    static let names = ModelTier.allCases.map(\.rawValue) + [untiered]

    /// `tier` is in `by`: each row says its tier.
    var grouped: Bool
    /// `tier=NAME`: only rows of that tier.
    var only: String?
    /// `model` was added to `by` to learn tiers; folded away in `apply`.
    var addedModel: Bool

    /// Takes `tier` out of `by` and out of the filters in `parameters` (putting `model` in
    /// `by` when needed), so the rest is an ordinary usage query; nil when tiers are not used.
    static func extract(from parameters: inout [String: String]) throws(UsageQueryError) -> UsageTiers? {
        let only = parameters.removeValue(forKey: "tier")
        if let only, !names.contains(only) {
            throw UsageQueryError(.badFilter, "tier '\(only)' is not a tier; expected one of \(names.joined(separator: ", "))")
        }
        var by = (parameters["by"] ?? "key,model").split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let grouped = by.contains("tier")
        guard grouped || only != nil else { return nil }
        by.removeAll { $0 == "tier" }
        let addedModel = !by.contains("model")
        if addedModel { by.append("model") }
        parameters["by"] = by.joined(separator: ",")
        return UsageTiers(grouped: grouped, only: only, addedModel: addedModel)
    }

    /// The rows of the tier asked for, each with its tier when grouped, folded over models
    /// when the model was only there to learn the tier.
    func apply(_ rows: [UsageRow], catalog: PriceCatalog) -> [UsageRow] {
        struct Group: Hashable {
            var bucket: String?
            var dimensions: [UsageDimension: String]
            var keyHint: String?
            var tier: String?
        }
        var folded: [Group: UsageRow] = [:]
        for var row in rows {
            let tier = row.dimensions[.model].flatMap { catalog.tier(of: $0)?.rawValue } ?? Self.untiered
            if let only, tier != only { continue }
            if addedModel { row.dimensions[.model] = nil }
            if grouped { row.tier = tier }
            let group = Group(bucket: row.bucket, dimensions: row.dimensions, keyHint: row.keyHint, tier: row.tier)
            if folded[group] == nil {
                folded[group] = row
            } else {
                folded[group]?.counters.add(row.counters)
            }
        }
        return Array(folded.values)
    }
}
