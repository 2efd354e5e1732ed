import Foundation
import TollgateCore

/// `tollgate_spend_usd_total{provider,model,team}` and `tollgate_tokens_total{provider,model,team,class}`:
/// what committed batches added, since the aggregator started (a restart resets them, as
/// Prometheus expects of counters; `increase()` and `rate()` handle it).
///
/// Sums are exact integers (nanodollars, tokens), kept here rather than in Prometheus'
/// float counters so the page shows the store's totals to the nanodollar; dollars are
/// written as decimals when scraped.
///
/// **Cardinality bound.** Providers and models are bounded (the catalog's canonical ids),
/// teams are whatever operators and callers tag. At most `maxSeries` (provider, model, team)
/// label sets are kept (2,000 by default, `metrics.max_spend_series`), each exported as one
/// spend series and six token series. A new team beyond the bound is counted under
/// `team="other"` for its (provider, model), and `tollgate_spend_series_folded_total` counts
/// each batch sum so folded; past `maxSeries` + 1,000 even the model folds into `other`.
/// Nothing is dropped: the sums over every label still equal the store's.
///
/// `@unchecked Sendable`: the map is behind a lock, taken once per applied batch (by the
/// commit thread) and once per scrape.
public final class SpendSeries: @unchecked Sendable {
    struct Labels: Hashable, Comparable {
        var provider: String
        var model: String
        var team: String

        static func < (a: Labels, b: Labels) -> Bool { (a.provider, a.model, a.team) < (b.provider, b.model, b.team) }
    }

    public static let defaultMaxSeries = 2_000
    /// Above `maxSeries`, the (provider, model, "other") sets that take folded teams; beyond
    /// this many more, (provider, "other", "other").
    static let foldReserve = 1_000

    let maxSeries: Int
    private let lock = NSLock()
    private var sums: [Labels: SpendSums] = [:]
    private var folded: Int64 = 0

    public init(maxSeries: Int = SpendSeries.defaultMaxSeries) {
        self.maxSeries = max(1, maxSeries)
    }

    /// Adds an applied batch's sums.
    public func add(_ tally: SpendSeriesTally) {
        guard !tally.entries.isEmpty else { return }
        let labelled = tally.entries.map { entry in
            (Labels(provider: String(decoding: entry.provider, as: UTF8.self), model: String(decoding: entry.model, as: UTF8.self),
                    team: String(decoding: entry.team, as: UTF8.self)), entry.sums)
        }
        lock.withLock {
            for (labels, batchSums) in labelled {
                sums[fold(labels), default: SpendSums()].add(batchSums)
            }
        }
    }

    /// The label set `labels` is counted under. Call with the lock held.
    private func fold(_ labels: Labels) -> Labels {
        if sums[labels] != nil || sums.count < maxSeries { return labels }
        folded += 1
        var other = labels
        other.team = "other"
        if sums[other] != nil || sums.count < maxSeries + Self.foldReserve { return other }
        other.model = "other"
        return other
    }

    /// The exact sums by label set (tests compare them with the store).
    func snapshot() -> [Labels: SpendSums] {
        lock.withLock { sums }
    }

    /// Both families and the fold counter, in Prometheus' text format.
    func exposition() -> String {
        let (sums, folded) = lock.withLock { (self.sums, self.folded) }
        let ordered = sums.keys.sorted()
        var text = PrometheusText()
        text.family("tollgate_spend_usd_total", type: "counter",
                    help: "Spend in US dollars by provider, canonical model and team, from usage batches committed since the aggregator started (team=\"other\": teams beyond metrics.max_spend_series).")
        for labels in ordered {
            text.sample("tollgate_spend_usd_total", [("provider", labels.provider), ("model", labels.model), ("team", labels.team)],
                        decimal: Nanodollars(sums[labels]!.cost).decimalUSD)
        }
        text.family("tollgate_tokens_total", type: "counter",
                    help: "Tokens by provider, canonical model, team and class (input includes cached_input and cache writes; output includes reasoning), from usage batches committed since the aggregator started.")
        for labels in ordered {
            for (name, value) in sums[labels]!.tokenClasses {
                text.sample("tollgate_tokens_total", [("provider", labels.provider), ("model", labels.model), ("team", labels.team), ("class", name)],
                            decimal: String(value))
            }
        }
        text.family("tollgate_spend_series_folded_total", type: "counter",
                    help: "Batch sums counted under team=\"other\" because metrics.max_spend_series (provider, model, team) label sets already exist.")
        text.sample("tollgate_spend_series_folded_total", [], decimal: String(folded))
        return text.text
    }
}
