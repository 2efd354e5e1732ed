/// Compares the catalog a deployment prices with against LiteLLM's price file, field by
/// field: what `tollgate-agent prices --check FILE` prints, so an operator sees a provider's
/// price change (or a mistake in either list) before it shows up in a month's totals.
public struct PriceCheck: Sendable {
    public struct Difference: Hashable, Sendable {
        public var model: String
        /// LiteLLM's key for the price, e.g. `cache_creation_input_token_cost_above_1hr`.
        public var field: String
        /// USD per million tokens (per 1,000 calls for web search; tokens for thresholds);
        /// `-` where one side has no value.
        public var ours: String
        public var theirs: String
    }

    public var differences: [Difference] = []
    /// Models of the catalog the file does not name at all: not a price difference.
    public var notInFile: [String] = []

    /// Every price the file states for a model of `catalog`, against the rate Tollgate
    /// would charge for the same tier, band and class (stated or derived). A model is
    /// matched by the file's own name first, then as the catalog matches names (aliases,
    /// snapshot suffixes).
    public init(catalog: PriceCatalog, file: LiteLLMPriceFile) {
        var fileCatalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        fileCatalog.merge(file, source: "check")
        for model in catalog.prices.keys.sorted() {
            let ours = catalog.prices[model]!
            let entryName: String?
            if file.entries[model] != nil {
                entryName = model
            } else if case .priced(let name, _) = fileCatalog.lookup(model) {
                entryName = name
            } else {
                entryName = nil
            }
            guard let entryName, let entry = file.entries[entryName] else {
                notInFile.append(model)
                continue
            }
            let theirThreshold = entry.longContextThreshold.map(String.init) ?? "-"
            let ourThreshold = ours.hasLongContext ? String(ours.longContextThreshold) : "-"
            if theirThreshold != ourThreshold, entry.stated.keys.contains(where: { if case .rate(_, true, _) = $0.kind { true } else { false } }) {
                differences.append(Difference(model: model, field: "long-context threshold (tokens)", ours: ourThreshold, theirs: theirThreshold))
            }
            for (field, value) in entry.stated.sorted(by: { $0.key < $1.key }) {
                let our: Int64
                switch field.kind {
                case .rate(let tier, let long, let priced): our = ours.rates[tier, longContext: long][priced]
                case .webSearchPer1k: our = ours.webSearchPer1k
                }
                if our != value {
                    differences.append(Difference(model: model, field: field.name, ours: formatUSD(nanodollars: our),
                                                  theirs: formatUSD(nanodollars: value)))
                }
            }
        }
    }
}
