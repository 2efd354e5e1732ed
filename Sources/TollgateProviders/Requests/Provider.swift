import TollgateCore

/// The LLM APIs Tollgate understands.
public enum Provider: String, CaseIterable, Sendable {
    case openai, anthropic, gemini
}

/// What the agent learned from a provider response: the billed model, its tokens, and
/// what else sets the price (the service tier that served it, per-call tool fees).
public struct ExtractedUsage: Equatable, Sendable {
    /// The model the provider says it ran (often a dated snapshot of the one requested).
    public var model: String?
    public var tokens: TokenUsage
    /// The tier the response says served the call; nil when it does not say, and the
    /// request's own choice (or standard) applies.
    public var serviceTier: ServiceTier?
    /// Server-side web searches billed per call (Anthropic's `server_tool_use`).
    public var webSearchRequests: Int64

    public init(model: String?, tokens: TokenUsage, serviceTier: ServiceTier? = nil, webSearchRequests: Int64 = 0) {
        self.model = model
        self.tokens = tokens
        self.serviceTier = serviceTier
        self.webSearchRequests = webSearchRequests
    }
}

/// Why no usage could be read from a response. Each case is counted by the agent.
public enum UsageExtractionError: Error, Equatable, CustomStringConvertible {
    case malformedJSON
    case noUsage
    case implausible(field: String, value: Int64)

    public var description: String {
        switch self {
        case .malformedJSON: "response body is not valid JSON"
        case .noUsage: "response carries no usage object"
        case .implausible(let field, let value): "usage field \(field) has implausible value \(value)"
        }
    }

    /// A short label for metrics.
    public var reason: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .noUsage: "no_usage"
        case .implausible: "implausible_usage"
        }
    }
}

/// A token count read from a provider: absent means zero; negative or beyond any real
/// request (a billion tokens) means the body is corrupt and must not reach a counter.
func plausible(_ value: Int64?, _ field: String) throws -> Int64 {
    guard let value else { return 0 }
    guard (0...1_000_000_000).contains(value) else { throw UsageExtractionError.implausible(field: field, value: value) }
    return value
}
