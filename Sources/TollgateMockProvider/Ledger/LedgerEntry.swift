/// What one API key spent on one model at one provider: the ground truth a meter's
/// totals are checked against.
///
/// `model` is the model the response named (OpenAI's and Anthropic's dated snapshot,
/// Gemini's `modelVersion`, an Azure deployment's name), since that is what a correct
/// meter attributes and prices by.
///
/// Token fields use Tollgate's normalised classes, whatever the provider calls them:
/// - `promptTokens`: every input token, *including* cache reads and cache writes. OpenAI's
///   and Gemini's prompt counts already include them; for Anthropic it is
///   `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`.
/// - `cachedTokens`: input read from a prompt cache (part of `promptTokens`).
/// - `cacheWriteTokens`: input written to a prompt cache (part of `promptTokens`):
///   Anthropic's `cache_creation_input_tokens`, both TTLs.
/// - `cacheWrite1hTokens`: the 1-hour part of `cacheWriteTokens` (Anthropic's
///   `cache_creation.ephemeral_1h_input_tokens`), priced higher than 5-minute writes.
/// - `completionTokens`: every generated token, *including* reasoning. For Gemini that is
///   `candidatesTokenCount + thoughtsTokenCount`.
/// - `reasoningTokens`: reasoning or thinking (part of `completionTokens`).
public struct LedgerEntry: Codable, Hashable, Sendable {
    /// `openai`, `azure`, `anthropic` or `gemini`.
    public var provider: String
    public var apiKey: String
    public var model: String
    public var requests: Int
    public var promptTokens: Int
    public var cachedTokens: Int
    public var cacheWriteTokens: Int
    public var cacheWrite1hTokens: Int
    public var completionTokens: Int
    public var reasoningTokens: Int

    public init(
        apiKey: String, model: String, requests: Int = 0, promptTokens: Int = 0,
        cachedTokens: Int = 0, completionTokens: Int = 0, reasoningTokens: Int = 0,
        provider: String = "openai", cacheWriteTokens: Int = 0, cacheWrite1hTokens: Int = 0
    ) {
        self.provider = provider
        self.apiKey = apiKey
        self.model = model
        self.requests = requests
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
        self.completionTokens = completionTokens
        self.reasoningTokens = reasoningTokens
    }

    enum CodingKeys: String, CodingKey {
        case provider
        case apiKey = "api_key"
        case model, requests
        case promptTokens = "prompt_tokens"
        case cachedTokens = "cached_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case cacheWrite1hTokens = "cache_write_1h_tokens"
        case completionTokens = "completion_tokens"
        case reasoningTokens = "reasoning_tokens"
    }

    /// Ledgers written before `provider`, `cache_write_tokens` and `cache_write_1h_tokens` existed still decode.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        provider = try container.decodeIfPresent(String.self, forKey: .provider) ?? "openai"
        apiKey = try container.decode(String.self, forKey: .apiKey)
        model = try container.decode(String.self, forKey: .model)
        requests = try container.decode(Int.self, forKey: .requests)
        promptTokens = try container.decode(Int.self, forKey: .promptTokens)
        cachedTokens = try container.decode(Int.self, forKey: .cachedTokens)
        cacheWriteTokens = try container.decodeIfPresent(Int.self, forKey: .cacheWriteTokens) ?? 0
        cacheWrite1hTokens = try container.decodeIfPresent(Int.self, forKey: .cacheWrite1hTokens) ?? 0
        completionTokens = try container.decode(Int.self, forKey: .completionTokens)
        reasoningTokens = try container.decode(Int.self, forKey: .reasoningTokens)
    }
}

/// The mock's ground truth as served by `GET /_mock/ledger`.
public struct LedgerSnapshot: Codable, Hashable, Sendable {
    /// One entry per (provider, api_key, response model), sorted by provider, key, then model.
    public var entries: [LedgerEntry]
    /// Requests to a metered endpoint answered with a non-200 status; they carry no usage.
    public var errors: Int
    /// Streams whose client left before the end, in the order their connections closed.
    /// Their (partial) bills are in `entries` too.
    public var aborted: [AbortedStream]

    public init(entries: [LedgerEntry], errors: Int, aborted: [AbortedStream] = []) {
        self.entries = entries
        self.errors = errors
        self.aborted = aborted
    }

    enum CodingKeys: String, CodingKey {
        case entries, errors, aborted
    }

    /// Ledgers written before `aborted` existed still decode.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entries = try container.decode([LedgerEntry].self, forKey: .entries)
        errors = try container.decode(Int.self, forKey: .errors)
        aborted = try container.decodeIfPresent([AbortedStream].self, forKey: .aborted) ?? []
    }
}

/// One stream the client left early: what the mock billed for it (Tollgate's classes, as in
/// `LedgerEntry`) and when its connection closed, in Unix milliseconds.
public struct AbortedStream: Codable, Hashable, Sendable {
    public var provider: String
    public var apiKey: String
    public var model: String
    public var promptTokens: Int
    public var completionTokens: Int
    /// Events written before the close, of all the answer had.
    public var eventsSent: Int
    public var eventsTotal: Int
    public var closedAtMs: Int64

    enum CodingKeys: String, CodingKey {
        case provider
        case apiKey = "api_key"
        case model
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case eventsSent = "events_sent"
        case eventsTotal = "events_total"
        case closedAtMs = "closed_at_ms"
    }
}
