import TollgateCore

/// Usage of a streamed Chat Completions (or legacy Completions) response.
///
/// The usage arrives only if the request set `stream_options.include_usage` (see
/// `OpenAIStreamOptions`): one chunk with `choices: []` after the `finish_reason` chunk,
/// then `data: [DONE]`. Every other chunk has `usage: null`. Without it `usage` stays nil
/// and `outputCharacters` (content, refusal and tool-call argument deltas) is what is left
/// to estimate from. Anything after `[DONE]` is ignored.
typealias OpenAIChatStreamTap = SSEUsageTap<OpenAIChatStreamReader>

struct OpenAIChatStreamReader: SSEEventReader {
    private var tokens: TokenUsage?
    private var model: String?
    private var serviceTier: ServiceTier?
    private var characters = 0
    private var sawDone = false

    mutating func read(_ event: ServerSentEvent, problems: inout TapProblems) {
        guard !sawDone, !event.isBlank else { return }
        if event.data == "[DONE]" {
            sawDone = true
            return
        }
        // Every chunk repeats the tier that serves the call: the first that names it is read.
        guard let chunk = OpenAIChoicesBody(event.data.utf8, readingServiceTier: serviceTier == nil) else {
            problems.record(.malformedEvent)
            return
        }
        if chunk.hasError { problems.record(.providerError) }
        model = ReportedModel.name(chunk.model) ?? model
        serviceTier = chunk.serviceTier ?? serviceTier
        characters += chunk.outputCharacters
        if let usage = chunk.usage, let reported = problems.reading({ try usage.tokens() }) {
            tokens = reported
        }
    }

    func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int) {
        if !sawDone { problems.record(.truncatedStream) }
        return (tokens.map { ExtractedUsage(model: model, tokens: $0, serviceTier: serviceTier) }, characters)
    }
}
