/// Reads price catalogs written as YAML:
///
/// ```yaml
/// models:
///   gpt-4o:
///     provider: openai
///     input: 2.50          # USD per million tokens
///     cached_input: 1.25   # optional; defaults to input
///     cache_write: 2.50    # optional; defaults to input
///     output: 10.00
///     aliases: [gpt-4o-latest, eu-gpt4o]  # other names: same model, same price (an Azure deployment's too)
///     snapshots: [gpt-4o-2024-08-06]      # its builds; a trailing date is found without listing it
///     as_of: 2026-11-01
///     source: https://openai.com/api/pricing
/// fallback:                # price for models not listed (records are flagged unpriced)
///   input: 15.00
///   output: 75.00
/// ```
extension PriceCatalog {
    public init(yaml: String, source: String) throws {
        self.init(fallback: Self.defaultFallback)
        try merge(yaml: yaml, source: source)
    }

    /// Adds the entries of another catalog; its entries win over existing ones.
    public mutating func merge(yaml: String, source: String) throws {
        let root = try ConfigNode(yaml: yaml, source: source)
        try root.rejectUnknownKeys(allowed: ["models", "fallback"])
        if let models = try root.section("models") {
            for name in models.keys {
                guard let entry = try models.section(name) else { continue }
                try entry.rejectUnknownKeys(allowed: ["provider", "input", "cached_input", "cache_write", "output", "aliases", "snapshots", "as_of", "source"])
                set(name, try Self.price(entry, provider: entry.requiredString("provider", expected: "the provider's name, e.g. openai")),
                    aliases: try entry.stringList("aliases") + entry.stringList("snapshots"))
            }
        }
        if let fallbackNode = try root.section("fallback") {
            try fallbackNode.rejectUnknownKeys(allowed: ["input", "cached_input", "cache_write", "output"])
            fallback = try Self.price(fallbackNode, provider: "unknown")
        }
    }

    private static func price(_ node: ConfigNode, provider: String) throws -> ModelPrice {
        func rate(_ key: String) throws -> Int64? {
            guard let text = try node.optionalString(key) else { return nil }
            do {
                return try parseUSDToNanodollars(text)
            } catch {
                throw ConfigError.invalid(key: node.keyPath(key), value: text, expected: "USD per million tokens, e.g. 2.50")
            }
        }
        guard let input = try rate("input") else { throw ConfigError.missing(key: node.keyPath("input"), expected: "USD per million input tokens") }
        guard let output = try rate("output") else { throw ConfigError.missing(key: node.keyPath("output"), expected: "USD per million output tokens") }
        return ModelPrice(provider: provider, input: input, cachedInput: try rate("cached_input"), cacheWrite: try rate("cache_write"), output: output)
    }
}
