import TollgateCore

/// Usage of a streamed Responses API response.
///
/// Events are typed (`event:` lines, a `type` and `sequence_number` in the data). The
/// usage comes only in the terminal event: `response.completed`, or `response.incomplete`
/// (output limit reached) or `response.failed`, which may carry the usage of what was
/// generated before it stopped; `response.created` and `.in_progress` have `usage: null`.
/// There is no `[DONE]`.
typealias OpenAIResponsesStreamTap = SSEUsageTap<OpenAIResponsesStreamReader>

struct OpenAIResponsesStreamReader: SSEEventReader {
    /// Deltas of generated text; audio deltas are base64 and would overstate it.
    static let textDeltaEvents: Set<String> = [
        "response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta",
        "response.custom_tool_call_input.delta", "response.reasoning_summary_text.delta", "response.reasoning_text.delta",
    ]

    static let terminalEvents: Set<String> = ["response.completed", "response.incomplete", "response.failed"]

    private var tokens: TokenUsage?
    private var model: String?
    private var serviceTier: ServiceTier?
    private var characters = 0
    private var sawTerminal = false

    mutating func read(_ event: ServerSentEvent, problems: inout TapProblems) {
        guard !event.isBlank else { return }
        guard let payload = JSONValue(parsing: event.data.utf8)?.object else {
            problems.record(.malformedEvent)
            return
        }
        // Strict, unlike the text: a usage object of the wrong shape must show up as a
        // malformed event, not as a stream that never reported usage.
        let response: OpenAIResponseObject?
        do {
            response = try payload.strictObject("response").map(OpenAIResponseObject.init)
        } catch {
            problems.record(.malformedEvent)
            return
        }
        let type = payload.string("type") ?? event.event ?? ""
        if Self.textDeltaEvents.contains(type) {
            characters += payload.meteredLength("delta")
        } else if type == "error" || type == "response.failed" {
            problems.record(.providerError)
        }
        let isTerminal = Self.terminalEvents.contains(type)
        guard let response else {
            if isTerminal { problems.record(.malformedEvent) }
            return
        }
        model = ReportedModel.name(response.model) ?? model
        serviceTier = response.serviceTier ?? serviceTier
        guard isTerminal else { return }
        sawTerminal = true
        guard let usage = response.usage else {
            // Failed and incomplete responses may lack usage; a completed one never does.
            if type == "response.completed" { problems.record(.malformedEvent) }
            return
        }
        if let reported = problems.reading({ try usage.tokens() }) {
            tokens = reported
        }
    }

    func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int) {
        if !sawTerminal { problems.record(.truncatedStream) }
        return (tokens.map { ExtractedUsage(model: model, tokens: $0, serviceTier: serviceTier) }, characters)
    }
}
