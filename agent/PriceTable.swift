import TollgateCore

/// The active catalog for people: a row per model and billed service tier (and long-context
/// band), with the model's tier and where each price came from.
struct PriceTable {
    var catalog: PriceCatalog
    var filter: String?

    func render() -> String {
        var table = TextTable(header: ["MODEL", "TIER", "SERVICE", "PROMPT", "INPUT", "CACHED", "WRITE 5M", "WRITE 1H", "OUTPUT",
                                       "SEARCH/1K", "AS OF", "SOURCE"], numeric: 4..<10)
        for model in catalog.prices.keys.sorted() where filter.map(model.contains) ?? true {
            let price = catalog.prices[model]!
            let origin = catalog.origins[model]
            // A snapshot or provider-prefixed entry has its model's tier.
            let modelTier = catalog.facts(of: model).tier?.rawValue ?? "-"
            var first = true
            for tier in ServiceTier.allCases where tier == .standard || tier == .batch || price.states(tier) {
                for long in price.hasLongContext ? [false, true] : [false] {
                    let rates = price.rates[tier, longContext: long]
                    let band = !price.hasLongContext ? "all" : (long ? ">" : "≤") + tokens(price.longContextThreshold)
                    var row = [first ? model : "", first ? modelTier : "", tier.description, band]
                    row += PricedClass.allCases.map { priced in
                        formatUSD(nanodollars: rates[priced]) + (price.derived.contains(tier, longContext: long, priced) ? "*" : "")
                    }
                    row.append(first ? (price.webSearchPer1k > 0 ? formatUSD(nanodollars: price.webSearchPer1k) : "-") : "")
                    row += first ? [origin?.asOf ?? "-", origin?.source ?? "-"] : ["", ""]
                    table.rows.append(row)
                    first = false
                }
            }
        }
        let fallback = catalog.fallback
        table.rows.append(["(unpriced models)", "-", "all", "all"] + PricedClass.allCases.map { formatUSD(nanodollars: fallback.standard[$0]) }
                          + ["-", "-", "fallback"])
        return table.render() + "\nUSD per million tokens; SEARCH/1K per 1,000 web searches. * derived, not stated by the source."
    }

    private func tokens(_ count: Int64) -> String {
        count % 1_000 == 0 ? "\(count / 1_000)k" : String(count)
    }
}
