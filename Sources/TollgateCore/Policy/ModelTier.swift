/// How expensive a model is within its provider's line-up, for policies such as "no
/// premium models in dev". The price catalog says each model's tier (`tier:` per entry);
/// a deployment may reassign them in its own `pricing.catalog`.
public enum ModelTier: String, CaseIterable, Sendable, Codable, Comparable {
    case economy, standard, premium

    public static func < (lhs: ModelTier, rhs: ModelTier) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What a policy needs to know about a model: its canonical id, its provider (whose wire
/// format the request speaks) and its tier. Resolved once per request.
public struct ModelFacts: Hashable, Sendable {
    public var canonical: String
    /// Empty for a model the catalog does not know.
    public var provider: String
    public var tier: ModelTier?

    public init(canonical: String, provider: String, tier: ModelTier?) {
        self.canonical = canonical
        self.provider = provider
        self.tier = tier
    }
}

extension PriceCatalog {
    /// The tier the catalog gives a canonical model; nil when it gives none.
    public func tier(of canonical: String) -> ModelTier? {
        tiers[canonical]
    }

    /// Canonical id, provider and tier of a requested or served model name.
    public func facts(of name: String) -> ModelFacts {
        let resolution = resolve(name)
        let provider = resolution.priceKey.flatMap { prices[$0]?.provider } ?? ""
        return ModelFacts(canonical: resolution.canonical, provider: provider, tier: tiers[resolution.canonical])
    }
}
