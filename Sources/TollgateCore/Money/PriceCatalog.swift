import Foundation

/// Model prices with their aliases, and the rule for models nobody priced.
///
/// Responses name dated snapshots (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`)
/// while price lists name families, so a lookup tries the exact name, then an alias, then
/// the name with its snapshot suffix removed (and the same without a `models/` or provider
/// prefix). The same search gives a name's canonical model (`resolve`, in
/// PriceCatalog+ModelIdentity.swift).
public struct PriceCatalog: Sendable {
    public enum Lookup: Equatable, Sendable {
        case priced(model: String, ModelPrice)
        /// No entry: the fallback price applies and the record is flagged `unpriced`.
        case unpriced(ModelPrice)
    }

    public private(set) var prices: [String: ModelPrice]
    public private(set) var aliases: [String: String]
    /// Where each model's price came from and as of when, for `tollgate-agent prices`.
    /// Kept beside the prices rather than in them: a price is copied for every metered
    /// request, and its origin is never needed there.
    public private(set) var origins: [String: PriceOrigin] = [:]
    /// Each canonical model's tier (`tier:` in the catalog), for policies; kept beside the
    /// prices for the same reason as `origins`.
    public private(set) var tiers: [String: ModelTier] = [:]
    public var fallback: ModelPrice

    public init(prices: [String: ModelPrice] = [:], aliases: [String: String] = [:], fallback: ModelPrice) {
        self.prices = prices
        self.aliases = aliases
        self.fallback = fallback
    }

    /// A deliberately expensive default for unknown models: an unpriced call should look
    /// costly in reports and trip budgets early, never look free.
    public static let defaultFallback = ModelPrice(provider: "unknown", input: 15_000_000_000, output: 75_000_000_000)

    /// Adds or replaces an entry. A `tier` of nil keeps the tier the model already has: a
    /// later source restating a price (LiteLLM's file, a deployment's catalog) says nothing
    /// about the tier, and dropping it would let a "no premium in dev" policy miss the model.
    public mutating func set(_ model: String, _ price: ModelPrice, aliases names: [String] = [], origin: PriceOrigin? = nil,
                             tier: ModelTier? = nil) {
        prices[model] = price
        origins[model] = origin
        if let tier { tiers[model] = tier }
        for name in names { aliases[name] = model }
    }

    /// Gives a canonical model a tier without touching its price (`pricing.tiers`).
    public mutating func assignTier(_ tier: ModelTier, to canonical: String) {
        tiers[canonical] = tier
    }

    /// The price for `model`, found the way `resolve` finds its entry; `model:` names the entry.
    public func lookup(_ model: String) -> Lookup {
        guard let key = entryKey(for: model), let price = prices[key] else { return .unpriced(fallback) }
        return .priced(model: key, price)
    }

    /// Strips `-2024-08-06` or `-0613` (OpenAI), `-20250929` (Anthropic), `-001`,
    /// `-preview-09-2025`, `-preview-06-05` or `-exp-03-25` (Gemini) from the end. Plain
    /// byte checks on the string's own storage rather than regular expressions or a copied
    /// array: this runs on every metered request, and several times per policy decision.
    static func withoutSnapshotSuffix(_ name: String) -> String {
        var contiguous = name
        return contiguous.withUTF8 { characters in
            func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { characters[$0] >= 0x30 && characters[$0] <= 0x39 } }
            func dash(_ index: Int) -> Bool { characters[index] == UInt8(ascii: "-") }
            let count = characters.count
            func cut(_ length: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: characters[..<(count - length)]), as: UTF8.self) }
            /// Whether the bytes before the last `dropping` end with `suffix`.
            func endsWith(_ suffix: StaticString, dropping: Int) -> Bool {
                let length = suffix.utf8CodeUnitCount
                guard count - dropping >= length else { return false }
                return characters[(count - dropping - length)..<(count - dropping)].elementsEqual(
                    UnsafeBufferPointer(start: suffix.utf8Start, count: length))
            }
            if count > 11, dash(count - 11), digits(count - 10..<count - 6), dash(count - 6), digits(count - 5..<count - 3),
               dash(count - 3), digits(count - 2..<count) { return cut(11) }  // -2024-08-06
            if count > 9, dash(count - 9), digits(count - 8..<count) { return cut(9) }  // -20250929
            if count > 4, dash(count - 4), digits(count - 3..<count) { return cut(4) }  // -001
            if endsWith("-preview", dropping: 0) { return cut(8) }
            if count > 16, endsWith("-preview", dropping: 8), dash(count - 8), digits(count - 7..<count - 5),
               dash(count - 5), digits(count - 4..<count) { return cut(16) }  // -preview-09-2025
            if count > 6, dash(count - 6), digits(count - 5..<count - 3), dash(count - 3), digits(count - 2..<count) {
                if endsWith("-preview", dropping: 6) { return cut(14) }  // -preview-06-05 (Gemini)
                if endsWith("-exp", dropping: 6) { return cut(10) }  // -exp-03-25 (Gemini)
            }
            if count > 5, dash(count - 5), digits(count - 4..<count) { return cut(5) }  // -0613 (older OpenAI)
            return name
        }
    }
}

/// Where a price came from: the list it was read from (a URL or a file) and the date the
/// list was checked against the provider, when it says.
public struct PriceOrigin: Hashable, Sendable {
    public var source: String
    public var asOf: String?

    public init(source: String, asOf: String? = nil) {
        self.source = source
        self.asOf = asOf
    }
}
