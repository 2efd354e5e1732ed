import TollgateCore

/// The token counts the mock reports for one OpenAI-style request (Chat Completions,
/// Responses, legacy Completions, Azure).
///
/// Every number is a pure function of the request so that reruns reproduce the same
/// ledger, yet they vary enough (cached and uncached prompts, reasoning, hitting the
/// output limit) to exercise every pricing path of the meter.
struct SimulatedUsage: Equatable {
    var promptTokens: Int
    var cachedTokens: Int
    var completionTokens: Int
    var reasoningTokens: Int
    /// True when the completion stopped at the caller's own `max_tokens`.
    var hitLimit: Bool

    /// The mock never writes more than this, whatever the request allows.
    static let outputCeiling = 512
    /// OpenAI only caches prompts of at least this many tokens.
    static let cacheThreshold = 1024
    /// Cached prefixes come in blocks of this size.
    static let cacheBlock = 64

    init(promptTokens: Int, cachedTokens: Int, completionTokens: Int, reasoningTokens: Int, hitLimit: Bool) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
        self.reasoningTokens = reasoningTokens
        self.hitLimit = hitLimit
    }

    /// - Parameters:
    ///   - bodyHash: a stable hash of the raw request body; it picks the output length.
    init(request: ChatCompletionRequest, model: String, bodyHash: UInt64) {
        let messages = request.messages ?? []
        let characters = messages.reduce(0) { $0 + ($1.content?.characterCount ?? 0) }
        self.init(promptTokens: PromptSize.tokens(characters: characters, messages: messages.count),
                  outputLimit: request.outputLimit, model: model, bodyHash: bodyHash)
    }

    /// The shared rule for every OpenAI-style endpoint once the prompt is counted.
    init(promptTokens: Int, outputLimit: Int?, model: String, bodyHash: UInt64, caches: Bool = true) {
        self.promptTokens = promptTokens

        // Half the prompt as a cached prefix stands in for a repeated system prompt.
        cachedTokens = caches && promptTokens >= Self.cacheThreshold
            ? (promptTokens / 2) / Self.cacheBlock * Self.cacheBlock
            : 0

        let limit = max(1, min(outputLimit ?? Self.outputCeiling, Self.outputCeiling))
        let completion = Int(bodyHash % UInt64(limit)) + 1
        completionTokens = completion
        hitLimit = outputLimit.map { completion >= max(1, $0) } ?? false

        if ModelSnapshots.isReasoningModel(model) {
            // Reasoning is part of completion_tokens (OpenAI bills it as output): 50–90% of it.
            let percent = 50 + Int(StableHash.remix(bodyHash, 1) % 41)
            reasoningTokens = completion * percent / 100
        } else {
            reasoningTokens = 0
        }
    }

    /// Tokens the client actually sees as message text.
    var visibleTokens: Int { completionTokens - reasoningTokens }

    /// In Tollgate's classes, which for OpenAI are the usage object's own.
    var tokens: TokenUsage {
        TokenUsage(input: Int64(promptTokens), cachedInput: Int64(cachedTokens),
                   output: Int64(completionTokens), reasoning: Int64(reasoningTokens))
    }
}

/// The mock's tokenizer: about four characters a token plus a little per message, which
/// is close to the real ratio for English and, above all, deterministic.
enum PromptSize {
    static func tokens(characters: Int, messages: Int) -> Int {
        max(1, characters / 4 + 8 * messages)
    }
}
