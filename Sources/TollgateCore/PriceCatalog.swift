import Foundation

/// Model prices with their aliases, and the rule for models nobody priced.
///
/// Responses name dated snapshots (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`)
/// while price lists name families, so a lookup tries the exact name, then an alias, then
/// the name with its snapshot suffix removed.
public struct PriceCatalog: Sendable {
    public enum Lookup: Equatable, Sendable {
        case priced(model: String, ModelPrice)
        /// No entry: the fallback price applies and the record is flagged `unpriced`.
        case unpriced(ModelPrice)
    }

    public private(set) var prices: [String: ModelPrice]
    public private(set) var aliases: [String: String]
    public var fallback: ModelPrice

    public init(prices: [String: ModelPrice] = [:], aliases: [String: String] = [:], fallback: ModelPrice) {
        self.prices = prices
        self.aliases = aliases
        self.fallback = fallback
    }

    /// A deliberately expensive default for unknown models: an unpriced call should look
    /// costly in reports and trip budgets early, never look free.
    public static let defaultFallback = ModelPrice(provider: "unknown", input: 15_000_000_000, output: 75_000_000_000)

    public mutating func set(_ model: String, _ price: ModelPrice, aliases names: [String] = []) {
        prices[model] = price
        for name in names { aliases[name] = model }
    }

    public func lookup(_ model: String) -> Lookup {
        let name = model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model
        for candidate in [name, Self.withoutSnapshotSuffix(name)] {
            if let price = prices[candidate] { return .priced(model: candidate, price) }
            if let target = aliases[candidate], let price = prices[target] { return .priced(model: target, price) }
        }
        return .unpriced(fallback)
    }

    /// Strips `-2024-08-06` (OpenAI), `-20250929` (Anthropic), `-001` or
    /// `-preview-09-2025` (Gemini) from the end.
    static func withoutSnapshotSuffix(_ name: String) -> String {
        let patterns = [#"-\d{4}-\d{2}-\d{2}$"#, #"-\d{8}$"#, #"-\d{3}$"#, #"-preview(-\d{2}-\d{4})?$"#]
        for pattern in patterns {
            if let range = name.range(of: pattern, options: .regularExpression) {
                return String(name[..<range.lowerBound])
            }
        }
        return name
    }
}
