import Foundation

/// Imports LiteLLM's community price file, so an operator can drop in its latest copy
/// instead of waiting for a Tollgate release. The file is read by `LiteLLMPriceFile`.
extension PriceCatalog {
    public typealias LiteLLMError = LiteLLMPriceFile.LiteLLMError

    /// Adds every entry with input and output prices; returns how many were imported.
    /// Entries named `provider/model` are also found by their bare model name unless
    /// another entry already claims it. `asOf` dates every imported price (the file
    /// carries none of its own).
    @discardableResult
    public mutating func merge(liteLLMJSON data: Data, source: String, asOf: String? = nil) throws -> Int {
        try merge(LiteLLMPriceFile(json: data, source: source), source: source, asOf: asOf)
    }

    @discardableResult
    public mutating func merge(_ file: LiteLLMPriceFile, source: String, asOf: String? = nil) -> Int {
        var imported = 0
        for (name, entry) in file.entries.sorted(by: { $0.key < $1.key }) {
            guard let price = entry.price else { continue }
            let bare = name.split(separator: "/").last.map(String.init) ?? name
            let claimed = bare != name && (prices[bare] != nil || aliases[bare] != nil || file.entries[bare] != nil)
            set(name, price, aliases: bare == name || claimed ? [] : [bare], origin: PriceOrigin(source: source, asOf: asOf))
            imported += 1
        }
        return imported
    }
}
