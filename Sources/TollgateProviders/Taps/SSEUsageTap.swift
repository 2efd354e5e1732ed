/// Reads the events of one SSE format; `SSEUsageTap` does the framing around it.
protocol SSEEventReader: Sendable {
    /// A reader that has seen nothing yet.
    init()
    mutating func read(_ event: ServerSentEvent, problems: inout TapProblems)
    /// The final usage and text count, recording what the stream left unfinished.
    func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int)
}

/// The part every SSE tap shares: bytes to events to a reader, the parser's counters to
/// problem labels, and a `finish()` that is safe to call twice. Each SSE format is this
/// tap over its own reader (`OpenAIChatStreamTap = SSEUsageTap<OpenAIChatStreamReader>`).
struct SSEUsageTap<Reader: SSEEventReader>: UsageTap {
    private var parser: SSEParser
    private var reader: Reader
    private var problems = TapProblems()
    private var result: TapResult?

    init(maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        reader = Reader()
        parser = SSEParser(maxEventBytes: maxEventBytes)
    }

    mutating func consume(_ bytes: some Collection<UInt8>) {
        guard result == nil else { return }
        for event in parser.feed(bytes) { reader.read(event, problems: &problems) }
    }

    mutating func finish() -> TapResult {
        if let result { return result }
        for event in parser.finish() { reader.read(event, problems: &problems) }
        if parser.oversizedEvents > 0 { problems.record(.oversizedEvent) }
        if parser.invalidUTF8Events > 0 { problems.record(.invalidUTF8) }
        let (usage, characters) = reader.finish(problems: &problems)
        let finished = TapResult(usage: usage, outputCharacters: characters, problems: problems.labels)
        result = finished
        return finished
    }
}

extension TapProblems {
    /// Runs a usage reading, recording its failure (an implausible count) instead of throwing.
    mutating func reading<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as UsageExtractionError {
            record(error)
            return nil
        } catch {
            record(.malformedEvent)
            return nil
        }
    }
}

extension ServerSentEvent {
    /// Keep-alive events with nothing in them; not worth a problem label.
    var isBlank: Bool { data.allSatisfy(\.isWhitespace) }
}
