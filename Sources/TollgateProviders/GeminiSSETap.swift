import Foundation

/// Usage of Gemini's `:streamGenerateContent?alt=sse`: one chunk per event, events ended
/// by `\r\n\r\n`, no `[DONE]`.
public struct GeminiSSETap: UsageTap {
    private var tap: SSEUsageTap<Reader>

    public init(maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        tap = SSEUsageTap(Reader(), maxEventBytes: maxEventBytes)
    }

    public mutating func consume(_ bytes: some Collection<UInt8>) { tap.consume(bytes) }

    public mutating func finish() -> TapResult { tap.finish() }

    struct Reader: SSEEventReader {
        private var chunks = GeminiChunkReader()

        mutating func read(_ event: ServerSentEvent, problems: inout TapProblems) {
            guard !event.isBlank else { return }
            chunks.read(Data(event.data.utf8), problems: &problems)
        }

        func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int) {
            chunks.finish(problems: &problems)
        }
    }
}
