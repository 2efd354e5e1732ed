import TollgateCore

/// The usage the mock reports for one Gemini request, in Gemini's own terms:
/// `prompt` *includes* cached tokens, `candidates` *excludes* thoughts.
///
/// Deterministic per request body: an explicit `cachedContent` adds a cached block of
/// 2–4 K tokens to the prompt; otherwise prompts of 1024 tokens or more hit the implicit
/// cache on about half the requests. Thinking models think for 50–200% of their answer.
struct GeminiUsage: Equatable {
    var prompt: Int
    var cached: Int
    var candidates: Int
    var thoughts: Int
    /// True when the answer stopped at `generationConfig.maxOutputTokens`.
    var hitLimit: Bool

    static let implicitCacheMinimum = 1024

    init(request: GeminiRequest, model: String, bodyHash: UInt64) {
        var prompt = request.promptTokens
        if request.cachedContent != nil {
            cached = 2048 + Int(StableHash.remix(bodyHash, 13) % 2048)
            prompt += cached
        } else if prompt >= Self.implicitCacheMinimum, StableHash.remix(bodyHash, 13) % 2 == 0 {
            cached = prompt * 3 / 4
        } else {
            cached = 0
        }
        self.prompt = prompt

        let limit = max(1, min(request.maxOutputTokens ?? SimulatedUsage.outputCeiling, SimulatedUsage.outputCeiling))
        let answer = Int(bodyHash % UInt64(limit)) + 1
        candidates = answer
        hitLimit = request.maxOutputTokens.map { answer >= $0 } ?? false
        thoughts = ModelSnapshots.isGeminiThinkingModel(model)
            ? answer * (50 + Int(StableHash.remix(bodyHash, 3) % 151)) / 100 + 1
            : 0
    }

    /// Normalised: thoughts are billed as output, so Tollgate's `output` includes them.
    var tokens: TokenUsage {
        TokenUsage(input: Int64(prompt), cachedInput: Int64(cached),
                   output: Int64(candidates + thoughts), reasoning: Int64(thoughts))
    }

    /// `usageMetadata` once `candidatesSoFar` answer tokens were generated. Zero-valued
    /// fields are omitted, as the API does.
    func json(candidatesSoFar: Int) -> OrderedJSON {
        .compacting([
            ("promptTokenCount", .int(prompt)),
            ("candidatesTokenCount", .nonZero(candidatesSoFar)),
            ("totalTokenCount", .int(prompt + candidatesSoFar + thoughts)),
            ("cachedContentTokenCount", .nonZero(cached)),
            ("promptTokensDetails", .array([Self.modality(prompt)])),
            ("cacheTokensDetails", cached > 0 ? .array([Self.modality(cached)]) : nil),
            ("thoughtsTokenCount", .nonZero(thoughts)),
        ])
    }

    private static func modality(_ count: Int) -> OrderedJSON {
        .object([("modality", .string("TEXT")), ("tokenCount", .int(count))])
    }
}
