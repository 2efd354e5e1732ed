import Foundation
import TollgateCore

/// Reads the chunks of a Gemini `streamGenerateContent` response, however they are framed.
///
/// Every chunk carries `usageMetadata` with the same `promptTokenCount` and a running
/// `candidatesTokenCount`, so the last chunk's counts are the call's and summing chunks
/// would over-count. (Vertex AI sends count-less `usageMetadata` on early chunks; those
/// are skipped, see `GeminiUsageMetadata.hasCounts`.)
struct GeminiChunkReader: Sendable {
    private var tokens: TokenUsage?
    private var model: String?
    private var characters = 0
    private var sawFinalChunk = false

    mutating func read(_ chunk: Data, problems: inout TapProblems) {
        guard let decoded = GeminiResponseChunk(chunk) else {
            problems.record(.malformedEvent)
            return
        }
        if decoded.hasError { problems.record(.providerError) }
        model = ReportedModel.name(decoded.modelVersion) ?? model
        characters += decoded.outputCharacters
        let metadata = decoded.usageMetadata.flatMap { $0.hasCounts ? $0 : nil }
        if decoded.isFinal {
            sawFinalChunk = true
            // The final chunk always reports the call's counts; one without them is
            // damaged, and the running count before it would pass for the total.
            if metadata == nil { problems.record(.malformedEvent) }
        }
        if let metadata, let reported = problems.reading({ try metadata.tokens() }) {
            tokens = reported
        }
    }

    func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int) {
        // Before the chunk with a finish reason, candidatesTokenCount is only a running count.
        if !sawFinalChunk { problems.record(.truncatedStream) }
        return (tokens.map { ExtractedUsage(model: model, tokens: $0) }, characters)
    }
}
