/// What one API key spent on one model: the ground truth a meter's totals are checked against.
///
/// `model` is the model the response named (the dated snapshot), since that is what a
/// correct meter attributes and prices by. Token fields follow OpenAI's usage object:
/// `promptTokens` includes `cachedTokens`, `completionTokens` includes `reasoningTokens`.
public struct LedgerEntry: Codable, Hashable, Sendable {
    public var apiKey: String
    public var model: String
    public var requests: Int
    public var promptTokens: Int
    public var cachedTokens: Int
    public var completionTokens: Int
    public var reasoningTokens: Int

    public init(
        apiKey: String, model: String, requests: Int = 0, promptTokens: Int = 0,
        cachedTokens: Int = 0, completionTokens: Int = 0, reasoningTokens: Int = 0
    ) {
        self.apiKey = apiKey
        self.model = model
        self.requests = requests
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
        self.reasoningTokens = reasoningTokens
    }

    enum CodingKeys: String, CodingKey {
        case apiKey = "api_key"
        case model, requests
        case promptTokens = "prompt_tokens"
        case cachedTokens = "cached_tokens"
        case completionTokens = "completion_tokens"
        case reasoningTokens = "reasoning_tokens"
    }
}

/// The mock's ground truth as served by `GET /_mock/ledger`.
public struct LedgerSnapshot: Codable, Hashable, Sendable {
    /// One entry per (api_key, response model), sorted by key then model.
    public var entries: [LedgerEntry]
    /// Completion requests answered with a non-200 status; they carry no usage.
    public var errors: Int

    public init(entries: [LedgerEntry], errors: Int) {
        self.entries = entries
        self.errors = errors
    }
}
