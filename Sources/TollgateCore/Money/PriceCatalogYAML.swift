/// Reads price catalogs written as YAML:
///
/// ```yaml
/// models:
///   claude-sonnet-4-5:
///     provider: anthropic
///     input: 3.00            # USD per million tokens
///     cached_input: 0.30     # optional; defaults to input
///     cache_write: 3.75      # 5-minute cache writes; optional, defaults to input
///     cache_write_1h: 6.00   # 1-hour cache writes; optional, defaults to cache_write
///     output: 15.00
///     long_context:          # the whole request at these rates when its prompt is longer
///       above_tokens: 200000
///       input: 6.00          # a class left out scales with input (6.00 / 3.00 here)
///       output: 22.50
///     service_tiers:         # flex, priority, batch; batch defaults to half of everything
///       priority: {input: 3.75, output: 18.75}
///     web_search_per_1k: 10.00   # USD per 1,000 server-side web searches
///     aliases: [claude-sonnet-4-5-latest]   # other names: same model, same price (an Azure deployment's too)
///     snapshots: [claude-sonnet-4-5-20250929]  # its builds; a trailing date is found without listing it
///     as_of: 2026-11-01
///     source: https://www.anthropic.com/pricing#api
/// fallback:                  # price for models not listed (records are flagged unpriced)
///   input: 15.00
///   output: 75.00
/// ```
///
/// A tier under `long_context` (`long_context.service_tiers.batch`) overrides the
/// derived rule; see `ModelPrice.init(provider:standard:serviceTiers:longContext:webSearchPer1k:)`.
extension PriceCatalog {
    public init(yaml: String, source: String) throws {
        self.init(fallback: Self.defaultFallback)
        try merge(yaml: yaml, source: source)
    }

    static let rateKeys = PricedClass.allCases.map(\.description)

    /// Adds the entries of another catalog; its entries win over existing ones.
    public mutating func merge(yaml: String, source: String) throws {
        let root = try ConfigNode(yaml: yaml, source: source)
        try root.rejectUnknownKeys(allowed: ["models", "fallback"])
        if let models = try root.section("models") {
            for name in models.keys {
                guard let entry = try models.section(name) else { continue }
                try entry.rejectUnknownKeys(allowed: ["provider"] + Self.rateKeys + ["long_context", "service_tiers", "web_search_per_1k",
                                                                                  "aliases", "snapshots", "as_of", "source", "tier"])
                let price = try Self.price(entry, provider: entry.requiredString("provider", expected: "the provider's name, e.g. openai"))
                let asOf = try entry.optionalString("as_of")
                if let asOf, !Self.isDate(asOf) {
                    throw ConfigError.invalid(key: entry.keyPath("as_of"), value: asOf, expected: "a date such as 2026-11-01")
                }
                let tier = try entry.optionalString("tier")
                guard tier.map({ ModelTier(rawValue: $0) != nil }) ?? true else {
                    throw ConfigError.invalid(key: entry.keyPath("tier"), value: tier ?? "",
                                              expected: ModelTier.allCases.map(\.rawValue).joined(separator: ", "))
                }
                set(name, price, aliases: try entry.stringList("aliases") + entry.stringList("snapshots"),
                    origin: PriceOrigin(source: try entry.optionalString("source") ?? source, asOf: asOf),
                    tier: tier.flatMap(ModelTier.init(rawValue:)))
            }
        }
        if let fallbackNode = try root.section("fallback") {
            try fallbackNode.rejectUnknownKeys(allowed: Self.rateKeys + ["long_context", "service_tiers", "web_search_per_1k"])
            fallback = try Self.price(fallbackNode, provider: "unknown")
        }
    }

    private static func price(_ node: ConfigNode, provider: String) throws -> ModelPrice {
        let stated = try rates(node)
        guard let input = stated[.input] else { throw ConfigError.missing(key: node.keyPath("input"), expected: "USD per million input tokens") }
        guard let output = stated[.output] else { throw ConfigError.missing(key: node.keyPath("output"), expected: "USD per million output tokens") }
        let standard = TokenRates(input: input, cachedInput: stated[.cachedInput], cacheWrite: stated[.cacheWrite],
                                  cacheWrite1h: stated[.cacheWrite1h], output: output)
        var longContext: ModelPrice.LongContext?
        if let band = try node.section("long_context") {
            try band.rejectUnknownKeys(allowed: ["above_tokens"] + rateKeys + ["service_tiers"])
            guard let threshold = try band.optionalString("above_tokens") else {
                throw ConfigError.missing(key: band.keyPath("above_tokens"), expected: "the prompt size in tokens above which these rates apply, e.g. 200000")
            }
            guard let tokens = Int64(threshold.replacingOccurrences(of: "_", with: "")), tokens > 0 else {
                throw ConfigError.invalid(key: band.keyPath("above_tokens"), value: threshold, expected: "a whole number of tokens, e.g. 200000")
            }
            let bandRates = try rates(band)
            guard !bandRates.isEmpty else {
                throw ConfigError.missing(key: band.keyPath("input"), expected: "at least one long-context rate (input, output, …) in USD per million tokens")
            }
            longContext = ModelPrice.LongContext(aboveTokens: tokens, standard: bandRates, serviceTiers: try tiers(band))
        }
        var fee: Int64 = 0
        if let text = try node.optionalString("web_search_per_1k") {
            do {
                fee = try parseUSDToNanodollars(text)
            } catch {
                throw ConfigError.invalid(key: node.keyPath("web_search_per_1k"), value: text, expected: "USD per 1,000 web searches, e.g. 10.00")
            }
        }
        return ModelPrice(provider: provider, standard: standard, serviceTiers: try tiers(node), longContext: longContext, webSearchPer1k: fee)
    }

    /// The rates a node states, each key optional.
    private static func rates(_ node: ConfigNode) throws -> DeclaredRates {
        var declared = DeclaredRates()
        for priced in PricedClass.allCases {
            let key = priced.description
            guard let text = try node.optionalString(key) else { continue }
            do {
                declared[priced] = try parseUSDToNanodollars(text)
            } catch {
                throw ConfigError.invalid(key: node.keyPath(key), value: text, expected: "USD per million tokens, e.g. 2.50")
            }
        }
        return declared
    }

    private static func tiers(_ node: ConfigNode) throws -> [ServiceTier: DeclaredRates] {
        guard let section = try node.section("service_tiers") else { return [:] }
        let names = ServiceTier.allCases.filter { $0 != .standard }.map(\.description)
        try section.rejectUnknownKeys(allowed: names)
        var result: [ServiceTier: DeclaredRates] = [:]
        for tier in ServiceTier.allCases where tier != .standard {
            guard let entry = try section.section(tier.description) else { continue }
            try entry.rejectUnknownKeys(allowed: rateKeys)
            let stated = try rates(entry)
            guard !stated.isEmpty else {
                throw ConfigError.missing(key: entry.keyPath("input"), expected: "at least one \(tier) rate (input, output, …) in USD per million tokens")
            }
            result[tier] = stated
        }
        return result
    }

    /// `YYYY-MM-DD`, checked by shape only: the date is for people reading the catalog.
    private static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.map(\.count) == [4, 2, 2] && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}
