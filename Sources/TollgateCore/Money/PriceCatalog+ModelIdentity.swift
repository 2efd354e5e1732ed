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

    /// The price entry `name` finds, if any.
    func entryKey(for name: String) -> String? {
        let plain = Self.withoutPathPrefix(name)
        let bare = Self.bareName(plain)
        for candidate in bare == plain ? [plain] : [plain, bare] {
            for form in [candidate, Self.withoutSnapshotSuffix(candidate)] {
                if prices[form] != nil { return form }
                if let target = aliases[form], prices[target] != nil { return target }
            }
        }
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
        for form in [bare, Self.withoutSnapshotSuffix(bare)] where form != key {
            if prices[form] != nil { return canonical(ofEntry: form, depth: depth + 1) }
            if let target = aliases[form], target != key, prices[target] != nil { return canonical(ofEntry: target, depth: depth + 1) }
        }
        return key
    }

    /// Gemini names models by resource path (`models/gemini-2.5-pro`) in requests and some responses.
    static func withoutPathPrefix(_ name: String) -> String {
        name.hasPrefix("models/") ? String(name.dropFirst("models/".count)) : name
    }

    /// `gpt-4.1` from `openai/gpt-4.1` (or LiteLLM's `vertex_ai/…`): the last path component.
    static func bareName(_ name: String) -> String {
        guard let slash = name.lastIndex(of: "/") else { return name }
        return String(name[name.index(after: slash)...])
    }
}
