import TollgateCore

/// `pricing.tiers`: a deployment's own view of which models are premium, standard or
/// economy, without restating any price (`claude-sonnet-4-5: premium`). Applied after every
/// catalog source, so it wins over the built-in tiers and a `tier:` in `pricing.catalog`.
/// It is also the only way to give a tier to a model that only LiteLLM's file knows: that
/// file says nothing about tiers, and such a model matches no `tier:` pattern until named here.
extension PriceCatalog {
    public mutating func applyTiers(_ section: ConfigNode) throws {
        let names = ModelTier.allCases.map(\.rawValue).joined(separator: ", ")
        for name in section.keys {
            let key = section.keyPath(name)
            let text = try section.optionalString(name)
            guard let text, let tier = ModelTier(rawValue: text) else {
                throw ConfigError.invalid(key: key, value: text ?? "", expected: "one of \(names)")
            }
            let resolution = resolve(name)
            guard resolution.isKnown else {
                throw ConfigError.invalid(key: key, value: text,
                                          expected: "a key naming a model of the price catalog, and '\(name)' is none (`tollgate-agent prices` and `tollgate models` list them; declare a new model under pricing.catalog)")
            }
            assignTier(tier, to: resolution.canonical)
        }
    }
}
