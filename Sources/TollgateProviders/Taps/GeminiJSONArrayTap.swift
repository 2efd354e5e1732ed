import Foundation

/// Usage of Gemini's `:streamGenerateContent` without `alt=sse`: the same chunks as the SSE
/// form, as the elements of one JSON array streamed over time.
public struct GeminiJSONArrayTap: UsageTap {
    private var splitter: JSONArrayStreamSplitter
    private var chunks = GeminiChunkReader()
    private var problems = TapProblems()
    private var result: TapResult?

    public init(maxElementBytes: Int = JSONArrayStreamSplitter.defaultMaxElementBytes) {
        splitter = JSONArrayStreamSplitter(maxElementBytes: maxElementBytes)
    }

    public mutating func consume(_ bytes: some Collection<UInt8>) {
        guard result == nil else { return }
        for element in splitter.feed(bytes) {
            // Repair invalid UTF-8 as the SSE parser does, so one bad byte in a text part
            // costs a label, not the chunk's usage.
            if String(validating: element, as: UTF8.self) == nil {
                problems.record(.invalidUTF8)
                chunks.read(Data(String(decoding: element, as: UTF8.self).utf8), problems: &problems)
            } else {
                chunks.read(Data(element), problems: &problems)
            }
        }
    }

    public mutating func finish() -> TapResult {
        if let result { return result }
        if splitter.oversizedElements > 0 { problems.record(.oversizedEvent) }
        if splitter.unexpectedByteRuns > 0 { problems.record(.malformedEvent) }
        if !splitter.isComplete { problems.record(.truncatedStream) }
        let (usage, characters) = chunks.finish(problems: &problems)
        let finished = TapResult(usage: usage, outputCharacters: characters, problems: problems.labels)
        result = finished
        return finished
    }
}
