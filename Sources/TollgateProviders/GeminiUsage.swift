import Foundation
import TollgateCore

/// Usage of Gemini's `generateContent` responses (and of each chunk of
/// `streamGenerateContent`, which has the same shape).
///
/// `promptTokenCount` already includes `cachedContentTokenCount`, but
/// `candidatesTokenCount` excludes `thoughtsTokenCount`, which is billed as output: so
/// `TokenUsage.output` is their sum and `reasoning` the thoughts. Zero-valued fields are
/// omitted on the wire and read as zero.
public enum GeminiUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try read(body).usage.get()
    }

    static func read(_ body: Data) -> BodyReading {
        guard let decoded = JSON.decode(GeminiResponseChunk.self, from: body) else { return .malformed }
        return BodyReading(model: decoded.modelVersion?.value, outputCharacters: decoded.outputCharacters) {
            guard let metadata = decoded.usageMetadata, metadata.hasCounts else { return nil }
            return try metadata.tokens()
        }
    }
}

/// A `GenerateContentResponse`: a whole body, or one chunk of a stream.
struct GeminiResponseChunk: Decodable, Sendable {
    var candidates: Lenient<[Candidate]>?
    var usageMetadata: GeminiUsageMetadata?
    var modelVersion: Lenient<String>?
    var promptFeedback: Lenient<PromptFeedback>?
    var error: AnyJSON?

    struct Candidate: Decodable, Sendable {
        var content: Lenient<Content>?
        var finishReason: Lenient<String>?
    }

    struct Content: Decodable, Sendable {
        var parts: Lenient<[Part]>?
    }

    /// Text parts, thought summaries (`thought: true`) included: both are generated.
    struct Part: Decodable, Sendable {
        var text: Lenient<String>?
    }

    struct PromptFeedback: Decodable, Sendable {
        var blockReason: Lenient<String>?
    }

    var outputCharacters: Int {
        candidates?.value?.reduce(0) { sum, candidate in
            sum + (candidate.content?.value?.parts?.value?.reduce(0) { $0 + $1.text.meteredLength } ?? 0)
        } ?? 0
    }

    /// This chunk ends the generation: a candidate has a finish reason, or the prompt
    /// itself was blocked (then there are no candidates at all).
    var isFinal: Bool {
        let finished = candidates?.value?.contains { $0.finishReason?.value?.isEmpty == false } ?? false
        return finished || promptFeedback?.value?.blockReason?.value != nil
    }
}

struct GeminiUsageMetadata: Decodable, Sendable {
    var promptTokenCount: Int64?
    var cachedContentTokenCount: Int64?
    var candidatesTokenCount: Int64?
    var thoughtsTokenCount: Int64?
    var toolUsePromptTokenCount: Int64?
    var totalTokenCount: Int64?

    /// Vertex AI sends `usageMetadata` with only `trafficType` on early stream chunks;
    /// such an object reports nothing and must not replace real counts.
    var hasCounts: Bool {
        [promptTokenCount, cachedContentTokenCount, candidatesTokenCount, thoughtsTokenCount,
         toolUsePromptTokenCount, totalTokenCount].contains { $0 != nil }
    }

    func tokens() throws -> TokenUsage {
        let candidates = try plausible(candidatesTokenCount, "candidatesTokenCount")
        let thoughts = try plausible(thoughtsTokenCount, "thoughtsTokenCount")
        return TokenUsage(
            input: try plausible(promptTokenCount, "promptTokenCount"),
            cachedInput: try plausible(cachedContentTokenCount, "cachedContentTokenCount"),
            output: try plausible(candidates + thoughts, "candidatesTokenCount+thoughtsTokenCount"),
            reasoning: thoughts
        )
    }
}
