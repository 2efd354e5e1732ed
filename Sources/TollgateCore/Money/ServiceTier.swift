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
        if let tier = Self.exact(String(providerValue)) ?? Self.exact(providerValue.lowercased()) {
            self = tier
        } else {
            return nil
        }
    }

    private static func exact(_ value: String) -> ServiceTier? {
        switch value {
        case "standard", "default", "auto", "scale", "standard_only", "on_demand": .standard
        case "flex": .flex
        case "priority": .priority
        case "batch", "batches": .batch
        default: nil
        }
    }

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
