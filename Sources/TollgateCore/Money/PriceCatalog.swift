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

    public mutating func set(_ model: String, _ price: ModelPrice, aliases names: [String] = [], origin: PriceOrigin? = nil,
                             tier: ModelTier? = nil) {
        prices[model] = price
        origins[model] = origin
        tiers[model] = tier
        for name in names { aliases[name] = model }
    }

    /// The price for `model`, found the way `resolve` finds its entry; `model:` names the entry.
    public func lookup(_ model: String) -> Lookup {
        guard let key = entryKey(for: model), let price = prices[key] else { return .unpriced(fallback) }
        return .priced(model: key, price)
    }

    /// Strips `-2024-08-06` or `-0613` (OpenAI), `-20250929` (Anthropic), `-001`,
    /// `-preview-09-2025`, `-preview-06-05` or `-exp-03-25` (Gemini) from the end. Plain
    /// string checks rather than regular expressions: this runs on every metered request.
    static func withoutSnapshotSuffix(_ name: String) -> String {
        let characters = Array(name.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { characters[$0] >= 0x30 && characters[$0] <= 0x39 } }
        func dash(_ index: Int) -> Bool { characters[index] == UInt8(ascii: "-") }
        let count = characters.count
        func cut(_ length: Int) -> String { String(decoding: characters[..<(count - length)], as: UTF8.self) }
        if count > 11, dash(count - 11), digits(count - 10..<count - 6), dash(count - 6), digits(count - 5..<count - 3),
           dash(count - 3), digits(count - 2..<count) { return cut(11) }  // -2024-08-06
        if count > 9, dash(count - 9), digits(count - 8..<count) { return cut(9) }  // -20250929
        if count > 4, dash(count - 4), digits(count - 3..<count) { return cut(4) }  // -001
        if name.hasSuffix("-preview") { return String(name.dropLast("-preview".count)) }
        if count > 16, name.dropLast(8).hasSuffix("-preview"), dash(count - 8), digits(count - 7..<count - 5),
           dash(count - 5), digits(count - 4..<count) { return cut(16) }  // -preview-09-2025
        if count > 6, dash(count - 6), digits(count - 5..<count - 3), dash(count - 3), digits(count - 2..<count) {
            if name.dropLast(6).hasSuffix("-preview") { return cut(14) }  // -preview-06-05 (Gemini)
            if name.dropLast(6).hasSuffix("-exp") { return cut(10) }  // -exp-03-25 (Gemini)
        }
        if count > 5, dash(count - 5), digits(count - 4..<count) { return cut(5) }  // -0613 (older OpenAI)
        return name
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
