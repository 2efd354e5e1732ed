import TollgateCore

/// The usage the mock reports for one Messages request, in Anthropic's own terms:
/// `input` *excludes* cache reads and writes, which are reported beside it.
///
/// Caching is deterministic per request body: a prompt with a `cache_control` breakpoint
/// over a prefix of at least `minimumCacheable` tokens writes that prefix on about one
/// request in three and reads it on the others, as if a warm cache came and went.
struct AnthropicUsage: Equatable {
    var input: Int
    var cacheRead: Int
    var cacheWrite5m: Int
    var cacheWrite1h: Int
    var output: Int
    /// True when the answer stopped at the request's `max_tokens`.
    var hitLimit: Bool

    /// The real minimum is 1024–4096 tokens depending on the model; the mock uses the
    /// lowest for every model so that demo traffic exercises caching everywhere.
    static let minimumCacheable = 1024

    init(request: AnthropicRequest, maxTokens: Int, bodyHash: UInt64) {
        let prompt = request.prompt
        let prefix = prompt.cacheablePrefix >= Self.minimumCacheable ? prompt.cacheablePrefix : 0
        let writes = prefix > 0 && StableHash.remix(bodyHash, 11) % 3 == 0
        cacheRead = writes ? 0 : prefix
        cacheWrite5m = writes && !prompt.oneHourTTL ? prefix : 0
        cacheWrite1h = writes && prompt.oneHourTTL ? prefix : 0
        input = max(1, prompt.tokens - prefix)

        let limit = max(1, min(maxTokens, SimulatedUsage.outputCeiling))
        output = Int(bodyHash % UInt64(limit)) + 1
        hitLimit = output >= maxTokens
    }

    var cacheWrite: Int { cacheWrite5m + cacheWrite1h }

    /// Normalised: Tollgate's `input` includes both cache classes.
    var tokens: TokenUsage {
        TokenUsage(input: Int64(input + cacheRead + cacheWrite), cachedInput: Int64(cacheRead),
                   cacheWrite: Int64(cacheWrite), cacheWrite1h: Int64(cacheWrite1h), output: Int64(output))
    }

    /// `usage` as in the message (and in `message_start`, with a placeholder output count).
    func json(outputTokens: Int) -> OrderedJSON {
        .object([
            ("input_tokens", .int(input)),
            ("cache_creation_input_tokens", .int(cacheWrite)),
            ("cache_read_input_tokens", .int(cacheRead)),
            ("cache_creation", .object([
                ("ephemeral_5m_input_tokens", .int(cacheWrite5m)),
                ("ephemeral_1h_input_tokens", .int(cacheWrite1h)),
            ])),
            ("output_tokens", .int(outputTokens)),
            ("service_tier", .string("standard")),
        ])
    }

    /// `usage` in `message_delta`: the final, cumulative output count, with the input and
    /// cache counts repeated (the current API sends them again; a meter must not add them twice).
    var deltaJSON: OrderedJSON {
        .object([
            ("input_tokens", .int(input)),
            ("cache_creation_input_tokens", .int(cacheWrite)),
            ("cache_read_input_tokens", .int(cacheRead)),
            ("output_tokens", .int(output)),
        ])
    }
}
