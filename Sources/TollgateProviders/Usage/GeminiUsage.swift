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

    static func read(_ body: some Collection<UInt8>) -> BodyReading {
        guard let chunk = GeminiResponseChunk(body) else { return .malformed }
        return BodyReading(model: chunk.modelVersion, outputCharacters: chunk.outputCharacters) {
            guard let metadata = chunk.usageMetadata, metadata.hasCounts else { return nil }
            return try metadata.tokens()
        }
    }
}

/// A `GenerateContentResponse`: a whole body, or one chunk of a stream.
struct GeminiResponseChunk: Sendable {
    var usageMetadata: GeminiUsageMetadata?
    var modelVersion: String?
    var hasError = false
    /// Unicode scalars in the candidates' text parts, thought summaries (`thought: true`)
    /// included: both are generated.
    var outputCharacters = 0
    /// This chunk ends the generation: a candidate has a finish reason, or the prompt
    /// itself was blocked (then there are no candidates at all).
    var isFinal = false

    /// Nil when the bytes are not a JSON object or carry a malformed `usageMetadata`.
    init?(_ bytes: some Collection<UInt8>) {
        guard let chunk = JSONValue(parsing: bytes)?.object else { return nil }
        do {
            usageMetadata = try chunk.strictObject("usageMetadata").map(GeminiUsageMetadata.init)
        } catch {
            return nil
        }
        modelVersion = chunk.string("modelVersion")
        hasError = chunk.present("error") != nil
        let candidates = chunk.objects("candidates") ?? []
        outputCharacters = candidates.reduce(0) { sum, candidate in
            sum + (candidate["content"]?.object?.objects("parts")?.reduce(0) { $0 + $1.meteredLength("text") } ?? 0)
        }
        let finished = candidates.contains { $0.string("finishReason")?.isEmpty == false }
        isFinal = finished || chunk["promptFeedback"]?.object?.string("blockReason") != nil
    }
}

/// The counts of a Gemini response; one of the wrong type makes the report unreadable.
struct GeminiUsageMetadata: Sendable {
    var promptTokenCount: Int64?
    var cachedContentTokenCount: Int64?
    var candidatesTokenCount: Int64?
    var thoughtsTokenCount: Int64?
    var toolUsePromptTokenCount: Int64?
    var totalTokenCount: Int64?

    init(_ metadata: JSONObject) throws {
        promptTokenCount = try metadata.count("promptTokenCount")
        cachedContentTokenCount = try metadata.count("cachedContentTokenCount")
        candidatesTokenCount = try metadata.count("candidatesTokenCount")
        thoughtsTokenCount = try metadata.count("thoughtsTokenCount")
        toolUsePromptTokenCount = try metadata.count("toolUsePromptTokenCount")
        totalTokenCount = try metadata.count("totalTokenCount")
    }

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
