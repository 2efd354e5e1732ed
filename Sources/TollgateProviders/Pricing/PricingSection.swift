import Foundation
import TollgateCore

/// The `pricing:` section, read the same way by the agent (which prices and gates requests)
/// and the aggregator (which resolves budgets' `model=` values): both must know the same
/// models and names, or a budget would count calls its agents do not match.
extension DefaultPriceCatalog {
    /// Built-in, then LiteLLM's community file (`litellm_file`), then this deployment's own
    /// catalog (`catalog`), later entries winning.
    public static func load(pricing section: ConfigNode?) throws -> PriceCatalog {
        var prices = load()
        guard let section else { return prices }
        try section.rejectUnknownKeys(allowed: ["litellm_file", "catalog"])
        if let path = try section.optionalString("litellm_file") {
            do {
                try prices.merge(liteLLMJSON: try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
            } catch {
                throw ConfigError.invalid(key: section.keyPath("litellm_file"), value: path, expected: "LiteLLM's model_prices_and_context_window.json (\(error))")
            }
        }
        if let path = try section.optionalString("catalog") {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError.invalid(key: section.keyPath("catalog"), value: path, expected: "a readable price catalog YAML file")
            }
            try prices.merge(yaml: text, source: path)
        }
        return prices
    }
}
