import Foundation

/// LiteLLM's community price file (`model_prices_and_context_window.json`), read into the
/// prices each entry states, field by field, so the catalog can import them and
/// `tollgate-agent prices --check` can compare them with its own.
///
/// LiteLLM quotes USD per token as JSON numbers (`2.5e-06`) in one key per class, tier and
/// band: `input_cost_per_token`, `cache_read_input_token_cost`,
/// `cache_creation_input_token_cost`, `cache_creation_input_token_cost_above_1hr` (1-hour
/// cache writes), `output_cost_per_token`; a long-context band appends
/// `_above_200k_tokens` (any `_above_<N>k_tokens`), a service tier `_flex`, `_priority` or
/// `_batches`, the band first (`input_cost_per_token_above_272k_tokens_priority`).
/// Per-call web search is `search_context_cost_per_query.search_context_size_medium`, USD
/// per call. Rates are converted once to nanodollars per million tokens, rounded to the
/// nearest unit (1e-15 USD per token), which is exact for every real price.
public struct LiteLLMPriceFile: Sendable {
    /// One price a LiteLLM entry states.
    public struct Field: Hashable, Sendable, Comparable {
        public enum Kind: Hashable, Sendable {
            case rate(ServiceTier, longContext: Bool, PricedClass)
            case webSearchPer1k
        }

        /// LiteLLM's key, e.g. `input_cost_per_token_above_200k_tokens`.
        public var name: String
        public var kind: Kind

        public static func < (a: Field, b: Field) -> Bool { a.name < b.name }
    }

    public struct Entry: Sendable {
        public var name: String
        public var provider: String
        /// Nanodollars per million tokens (per 1,000 calls for web search).
        public var stated: [Field: Int64]
        /// Where the long-context band starts, if the entry has one.
        public var longContextThreshold: Int64?
        /// Other `_above_<N>k_tokens` bands than the first; Tollgate prices one band per model.
        public var ignoredThresholds: [Int64]

        /// The entry as a Tollgate price; nil without both an input and an output rate.
        public var price: ModelPrice? {
            func declared(_ tier: ServiceTier, long: Bool) -> DeclaredRates {
                var rates = DeclaredRates()
                for (field, value) in stated {
                    if case .rate(tier, long, let priced) = field.kind { rates[priced] = value }
                }
                return rates
            }
            let base = declared(.standard, long: false)
            guard let input = base[.input], let output = base[.output] else { return nil }
            let standard = TokenRates(input: input, cachedInput: base[.cachedInput], cacheWrite: base[.cacheWrite],
                                      cacheWrite1h: base[.cacheWrite1h], output: output)
            var tiers: [ServiceTier: DeclaredRates] = [:]
            var longTiers: [ServiceTier: DeclaredRates] = [:]
            for tier in ServiceTier.allCases where tier != .standard {
                let short = declared(tier, long: false), long = declared(tier, long: true)
                if !short.isEmpty { tiers[tier] = short }
                if !long.isEmpty { longTiers[tier] = long }
            }
            let longStandard = declared(.standard, long: true)
            let band = longContextThreshold.flatMap { threshold in
                longStandard.isEmpty && longTiers.isEmpty ? nil
                    : ModelPrice.LongContext(aboveTokens: threshold, standard: longStandard, serviceTiers: longTiers)
            }
            let fee = stated.first { $0.key.kind == .webSearchPer1k }?.value ?? 0
            return ModelPrice(provider: provider, standard: standard, serviceTiers: tiers, longContext: band, webSearchPer1k: fee)
        }
    }

    public enum LiteLLMError: Error, CustomStringConvertible {
        case notAnObject(source: String)

        public var description: String {
            switch self {
            case .notAnObject(let source): "\(source) is not LiteLLM's price file: expected a JSON object of model entries"
            }
        }
    }

    /// Every entry that states at least one price, by LiteLLM's name.
    public var entries: [String: Entry]

    public init(json data: Data, source: String) throws {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw LiteLLMError.notAnObject(source: source)
        }
        var entries: [String: Entry] = [:]
        for (name, value) in root {
            guard let object = value as? [String: Any], let entry = Self.entry(name, object), !entry.stated.isEmpty else { continue }
            entries[name] = entry
        }
        self.entries = entries
    }

    static let classKeys: [(PricedClass, String)] = [
        (.input, "input_cost_per_token"), (.cachedInput, "cache_read_input_token_cost"),
        (.cacheWrite, "cache_creation_input_token_cost"), (.cacheWrite1h, "cache_creation_input_token_cost_above_1hr"),
        (.output, "output_cost_per_token"),
    ]

    static func tierSuffix(_ tier: ServiceTier) -> String {
        switch tier {
        case .standard: ""
        case .flex: "_flex"
        case .priority: "_priority"
        case .batch: "_batches"
        }
    }

    private static func entry(_ name: String, _ object: [String: Any]) -> Entry? {
        let thresholds = Set(object.keys.compactMap(threshold(in:))).sorted()
        var entry = Entry(name: name, provider: object["litellm_provider"] as? String ?? "unknown", stated: [:],
                          longContextThreshold: thresholds.first, ignoredThresholds: Array(thresholds.dropFirst()))
        for tier in ServiceTier.allCases {
            for long in [false, true] {
                if long && entry.longContextThreshold == nil { continue }
                let band = long ? "_above_\(entry.longContextThreshold! / 1_000)k_tokens" : ""
                for (priced, key) in classKeys {
                    let field = key + band + tierSuffix(tier)
                    if let value = perMillion(object[field]) {
                        entry.stated[Field(name: field, kind: .rate(tier, longContext: long, priced))] = value
                    }
                }
            }
        }
        let searchKey = "search_context_cost_per_query"
        if let search = object[searchKey] as? [String: Any], let perCall = perMillion(search["search_context_size_medium"]) {
            // USD per call × 1e15 is nanodollars per million calls; ÷ 1,000 gives per 1,000 calls.
            entry.stated[Field(name: "\(searchKey).search_context_size_medium", kind: .webSearchPer1k)] = perCall / 1_000
        }
        return entry
    }

    /// `200_000` from `input_cost_per_token_above_200k_tokens` (with or without a tier suffix).
    private static func threshold(in key: String) -> Int64? {
        guard key.hasPrefix("input_cost_per_token_above_"), let end = key.range(of: "k_tokens") else { return nil }
        let digits = key[key.index(key.startIndex, offsetBy: "input_cost_per_token_above_".count)..<end.lowerBound]
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let thousands = Int64(digits) else { return nil }
        return thousands * 1_000
    }

    private static func perMillion(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, !(value is Bool) else { return nil }
        let nanodollarsPerMillion = (number.doubleValue * 1e15).rounded()
        guard nanodollarsPerMillion.isFinite, nanodollarsPerMillion >= 0, nanodollarsPerMillion < 1e15 else { return nil }
        return Int64(nanodollarsPerMillion)
    }
}
