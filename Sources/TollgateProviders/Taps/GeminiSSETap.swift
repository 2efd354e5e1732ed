import Foundation

/// Usage of Gemini's `:streamGenerateContent?alt=sse`: one chunk per event, events ended
/// by `\r\n\r\n`, no `[DONE]`.
typealias GeminiSSETap = SSEUsageTap<GeminiSSEReader>

struct GeminiSSEReader: SSEEventReader {
    private var chunks = GeminiChunkReader()

    mutating func read(_ event: ServerSentEvent, problems: inout TapProblems) {
        guard !event.isBlank else { return }
        chunks.read(Data(event.data.utf8), problems: &problems)
    }

    func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int) {
        chunks.finish(problems: &problems)
    }
}
