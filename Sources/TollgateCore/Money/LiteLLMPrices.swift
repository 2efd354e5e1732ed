import Foundation

/// Reads LiteLLM's community price file (`model_prices_and_context_window.json`), so an
/// operator can drop in its latest copy instead of waiting for a Tollgate release.
///
/// LiteLLM quotes USD per token as JSON numbers (`2.5e-06`); they are converted once to
/// nanodollars per million tokens, rounded to the nearest unit (1e-15 USD per token), which
/// is exact for every real price.
extension PriceCatalog {
    public enum LiteLLMError: Error, CustomStringConvertible {
        case notAnObject(source: String)

        public var description: String {
            switch self {
            case .notAnObject(let source): "\(source) is not LiteLLM's price file: expected a JSON object of model entries"
            }
        }
    }

    /// Adds every entry with input and output prices; returns how many were imported.
    /// Entries named `provider/model` are also found by their bare model name unless
    /// another entry already claims it.
    @discardableResult
    public mutating func merge(liteLLMJSON data: Data, source: String) throws -> Int {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw LiteLLMError.notAnObject(source: source)
        }
        var imported = 0
        for (name, value) in root.sorted(by: { $0.key < $1.key }) {
            guard let entry = value as? [String: Any],
                  let input = Self.perMillion(entry["input_cost_per_token"]),
                  let output = Self.perMillion(entry["output_cost_per_token"]) else { continue }
            let provider = entry["litellm_provider"] as? String ?? "unknown"
            let price = ModelPrice(provider: provider, input: input,
                                   cachedInput: Self.perMillion(entry["cache_read_input_token_cost"]),
                                   cacheWrite: Self.perMillion(entry["cache_creation_input_token_cost"]),
                                   output: output)
            let bare = name.split(separator: "/").last.map(String.init) ?? name
            let claimed = bare != name && (prices[bare] != nil || aliases[bare] != nil || root[bare] != nil)
            set(name, price, aliases: bare == name || claimed ? [] : [bare])
            imported += 1
        }
        return imported
    }

    private static func perMillion(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, !(value is Bool) else { return nil }
        let nanodollarsPerMillion = (number.doubleValue * 1e15).rounded()
        guard nanodollarsPerMillion.isFinite, nanodollarsPerMillion >= 0, nanodollarsPerMillion < 1e15 else { return nil }
        return Int64(nanodollarsPerMillion)
    }
}
