/// Which model a name means: the one answer the agent's gate, the meter, the aggregator's
/// selectors and its reports all use, so a budget on `model=gpt-4.1` counts the calls that
/// came back as `gpt-4.1-2025-04-14` (DESIGN.md, "Model identity").
///
/// The catalog is the authority because it already knows every name a model goes by: its
/// entries (built-in, LiteLLM's file, the deployment's own), their `aliases`/`snapshots`,
/// and the rule that a dated snapshot belongs to the entry its undated name is.
public struct ModelResolution: Equatable, Sendable {
    /// The catalog's id (`gpt-4.1`, `claude-sonnet-4-5`, `gemini-2.5-pro`); for a model the
    /// catalog does not know, the name as given (without Gemini's `models/` prefix).
    public var canonical: String
    /// The entry whose price applies: the most specific one, so a snapshot priced on its own
    /// (LiteLLM lists some) keeps its price though its identity is the family. Nil: unknown.
    public var priceKey: String?

    public var isKnown: Bool { priceKey != nil }
}

extension PriceCatalog {
    /// Resolves a requested or served name: exact entry or alias first, then Gemini's
    /// `models/…` path form, then a provider prefix (`openai/gpt-4.1`), each also without a
    /// snapshot suffix. A handful of dictionary lookups: this runs for every request.
    public func resolve(_ name: String) -> ModelResolution {
        guard let key = entryKey(for: name) else { return ModelResolution(canonical: Self.withoutPathPrefix(name), priceKey: nil) }
        return ModelResolution(canonical: canonical(ofEntry: key), priceKey: key)
    }

    /// `resolve(name).canonical`.
    public func canonicalModel(_ name: String) -> String {
        resolve(name).canonical
    }

    /// Every canonical model the catalog knows, sorted: what a budget's `model=` may name.
    public var canonicalModels: [String] {
        Set(prices.keys.map { canonical(ofEntry: $0) }).sorted()
    }

    /// Every canonical model with the other names the catalog gives it (aliases, snapshot
    /// and provider-prefixed entries), sorted: what `tollgate models` lists.
    public var modelNames: [(model: String, provider: String, names: [String])] {
        var names: [String: Set<String>] = [:]
        for key in prices.keys {
            let model = canonical(ofEntry: key)
            names[model, default: []].formUnion(key == model ? [] : [key])
        }
        for (alias, target) in aliases where prices[target] != nil {
            let model = canonical(ofEntry: target)
            if alias != model { names[model, default: []].insert(alias) }
        }
        return names.keys.sorted().map { model in
            (model, (prices[model] ?? entryKey(for: model).flatMap { prices[$0] })?.provider ?? "", names[model, default: []].sorted())
        }
    }

    /// The price entry `name` finds, if any: the name, then without its snapshot suffix;
    /// then the same for its last path component. (Written out rather than as loops over
    /// array literals, which allocated twice per name.)
    func entryKey(for name: String) -> String? {
        let plain = Self.withoutPathPrefix(name)
        if let key = entryKey(exactOrSnapshot: plain) { return key }
        let bare = Self.bareName(plain)
        return bare == plain ? nil : entryKey(exactOrSnapshot: bare)
    }

    private func entryKey(exactOrSnapshot candidate: String) -> String? {
        if let key = entryKey(exact: candidate) { return key }
        let undated = Self.withoutSnapshotSuffix(candidate)
        return undated == candidate ? nil : entryKey(exact: undated)
    }

    private func entryKey(exact form: String) -> String? {
        if prices[form] != nil { return form }
        if let target = aliases[form], prices[target] != nil { return target }
        return nil
    }

    /// The model an entry belongs to: itself, unless it is a provider-prefixed copy
    /// (`azure/gpt-4.1`, LiteLLM's `gemini/gemini-2.5-flash`) or a dated snapshot
    /// (`gpt-4.1-2025-04-14`) of another entry. `depth` stops a pathological catalog from looping.
    func canonical(ofEntry key: String, depth: Int = 0) -> String {
        let bare = Self.bareName(key)
        // LiteLLM's import makes the bare name an alias of a prefixed entry nobody else claims.
        if bare != key, aliases[bare] == key { return bare }
        guard depth < 3 else { return key }
        if let found = canonical(through: bare, from: key, depth: depth) { return found }
        let undated = Self.withoutSnapshotSuffix(bare)
        return undated == bare ? key : canonical(through: undated, from: key, depth: depth) ?? key
    }

    /// The canonical model of the entry `form` names, when that is another entry than `key`.
    private func canonical(through form: String, from key: String, depth: Int) -> String? {
        guard form != key else { return nil }
        if prices[form] != nil { return canonical(ofEntry: form, depth: depth + 1) }
        if let target = aliases[form], target != key, prices[target] != nil { return canonical(ofEntry: target, depth: depth + 1) }
        return nil
    }

    /// Gemini names models by resource path (`models/gemini-2.5-pro`) in requests and some responses.
    /// Byte-wise, like `bareName`: Character comparisons cost grapheme breaking on every request.
    static func withoutPathPrefix(_ name: String) -> String {
        name.utf8.starts(with: "models/".utf8) ? String(name[name.utf8.index(name.utf8.startIndex, offsetBy: 7)...]) : name
    }

    /// `gpt-4.1` from `openai/gpt-4.1` (or LiteLLM's `vertex_ai/…`): the last path component.
    /// Searched as bytes: `String.lastIndex(of: Character)` walked grapheme clusters and was
    /// most of the cost of resolving a name (a policy decision resolves several).
    static func bareName(_ name: String) -> String {
        guard let slash = name.utf8.lastIndex(of: UInt8(ascii: "/")) else { return name }
        return String(name[name.utf8.index(after: slash)...])
    }
}
