import Foundation
import TollgateCore

/// The `pricing:` section, read the same way by the agent (which prices and gates requests)
/// and the aggregator (which resolves budgets' `model=` values): both must know the same
/// models and names, or a budget would count calls its agents do not match.
extension DefaultPriceCatalog {
    /// Built-in, then LiteLLM's community file (`litellm_file`), then this deployment's own
    /// catalog (`catalog`), later entries winning; then the deployment's model tiers (`tiers`).
    public static func load(pricing section: ConfigNode?) throws -> PriceCatalog {
        var prices = load()
        guard let section else { return prices }
        try section.rejectUnknownKeys(allowed: ["litellm_file", "catalog", "tiers"])
        if let path = try section.optionalString("litellm_file") {
            do {
                try prices.merge(liteLLMJSON: try Data(contentsOf: URL(fileURLWithPath: path)), source: path, asOf: modificationDate(path))
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
        if let tiers = try section.section("tiers") { try prices.applyTiers(tiers) }
        return prices
    }

    /// LiteLLM's file carries no date of its own: the copy's modification day (UTC) is
    /// the best "as of" there is.
    static func modificationDate(_ path: String) -> String? {
        guard let date = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        guard let year = parts.year, let month = parts.month, let day = parts.day else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }
}
