/// The provider's processing tier a request ran in, which sets its price.
///
/// OpenAI bills `flex` at about half and `priority` at up to twice the standard rate and
/// names the tier that actually served a call in the response's `service_tier`; Anthropic
/// names `standard`, `priority` or `batch` in `usage.service_tier`. Batch jobs cost half
/// at all three providers. The raw values index `ModelPrice`'s rate table: keep them dense.
public enum ServiceTier: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case standard = 0
    case flex = 1
    case priority = 2
    case batch = 3

    /// Reads a provider's spelling. `default`, `auto` and `scale` (OpenAI's reserved
    /// capacity, paid for up front rather than per token) bill at the standard rate;
    /// an unknown word is nil, and the caller keeps what it knew before.
    public init?(providerValue: some StringProtocol) {
        // Providers send lowercase; every OpenAI stream chunk repeats the tier, so the
        // exact spelling is tried before anything that would build a new string.
        var text = String(providerValue)
        if let tier = text.withUTF8({ Self(exactUTF8: $0) }) {
            self = tier
            return
        }
        var lowercased = text.lowercased()
        guard let tier = lowercased.withUTF8({ Self(exactUTF8: $0) }) else { return nil }
        self = tier
    }

    /// The exact lowercase spellings as bytes, for readers that never build a string
    /// (`nil` for anything else; `init(providerValue:)` then decides).
    public init?(exactUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        for (name, tier) in Self.spellings where name.count == bytes.count && name.elementsEqual(bytes) {
            self = tier
            return
        }
        return nil
    }

    private static let spellings: [([UInt8], ServiceTier)] = ([
        ("default", .standard), ("standard", .standard), ("auto", .standard), ("scale", .standard),
        ("standard_only", .standard), ("on_demand", .standard), ("flex", .flex), ("priority", .priority),
        ("batch", .batch), ("batches", .batch),
    ] as [(String, ServiceTier)]).map { (Array($0.0.utf8), $0.1) }

    /// The name catalogs use (`service_tiers:` keys in YAML, `prices` output).
    public var description: String {
        switch self {
        case .standard: "standard"
        case .flex: "flex"
        case .priority: "priority"
        case .batch: "batch"
        }
    }
}
