/// Which models a policy is about: one canonical model (`gpt-4.1`), a tier
/// (`tier:premium`), a provider (`provider:anthropic`), a family by prefix (`claude-*`) or
/// any model (`*`). Written and stored as that text.
public enum ModelPattern: Hashable, Sendable, CustomStringConvertible {
    case model(String)
    case tier(ModelTier)
    case provider(String)
    case prefix(String)
    case any

    /// Parses the text form; an exact model is kept as written until `resolvingModels`
    /// turns it into the catalog's canonical id.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" {
            self = .any
        } else if trimmed.hasPrefix("tier:") {
            let name = String(trimmed.dropFirst("tier:".count))
            guard let tier = ModelTier(rawValue: name) else {
                throw PolicyError.invalidModelPattern(text, reason: "unknown tier '\(name)'; expected one of \(ModelTier.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self = .tier(tier)
        } else if trimmed.hasPrefix("provider:") {
            let name = String(trimmed.dropFirst("provider:".count))
            guard !name.isEmpty else { throw PolicyError.invalidModelPattern(text, reason: "no provider after 'provider:'") }
            self = .provider(name)
        } else if trimmed.hasSuffix("*") {
            let prefix = String(trimmed.dropLast())
            guard !prefix.isEmpty, !prefix.contains("*") else {
                throw PolicyError.invalidModelPattern(text, reason: "'*' may only end a name, as in claude-*")
            }
            self = .prefix(prefix)
        } else {
            guard !trimmed.isEmpty, !trimmed.contains("*"), !trimmed.contains(",") else {
                throw PolicyError.invalidModelPattern(text, reason: "expected a model, tier:NAME, provider:NAME, a prefix ending in * or *")
            }
            self = .model(trimmed)
        }
    }

    public func matches(_ facts: ModelFacts) -> Bool {
        switch self {
        case .model(let canonical): facts.canonical == canonical
        case .tier(let tier): facts.tier == tier
        case .provider(let provider): facts.provider == provider
        case .prefix(let prefix): facts.canonical.hasPrefix(prefix)
        case .any: true
        }
    }

    public var description: String {
        switch self {
        case .model(let name): name
        case .tier(let tier): "tier:\(tier.rawValue)"
        case .provider(let provider): "provider:\(provider)"
        case .prefix(let prefix): "\(prefix)*"
        case .any: "*"
        }
    }
}

extension ModelPattern: Codable {
    public init(from decoder: Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
