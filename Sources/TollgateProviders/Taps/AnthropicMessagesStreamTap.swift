import TollgateCore

/// Usage of a streamed Anthropic Messages response.
///
/// `message_start.message.usage` has the input and cache counts and a placeholder output
/// count; `message_delta.usage` has the cumulative final output count and, in the current
/// API, the input and cache counts again. Each field's last value wins
/// (`AnthropicUsageFields`). Text, thinking and tool-input JSON deltas are counted for
/// estimates; `ping` and `signature_delta` carry nothing generated.
typealias AnthropicMessagesStreamTap = SSEUsageTap<AnthropicMessagesStreamReader>

struct AnthropicMessagesStreamReader: SSEEventReader {
    private var fields: AnthropicUsageFields?
    private var model: String?
    private var characters = 0
    private var sawStart = false
    private var sawFinalUsage = false

    mutating func read(_ event: ServerSentEvent, problems: inout TapProblems) {
        guard !event.isBlank else { return }
        guard let payload = JSONValue(parsing: event.data.utf8)?.object else {
            problems.record(.malformedEvent)
            return
        }
        do {
            switch payload.string("type") ?? event.event ?? "" {
            case "message_start":
                sawStart = true
                let message = try payload.strictObject("message")
                model = ReportedModel.name(message?.string("model")) ?? model
                try merge(message?.strictObject("usage").map(AnthropicUsageObject.init), problems: &problems)
            case "message_delta":
                sawFinalUsage = true
                try merge(payload.strictObject("usage").map(AnthropicUsageObject.init), problems: &problems)
            case "content_block_delta", "content_block_start":
                // A content block delta (`text_delta`, `thinking_delta`,
                // `input_json_delta`), or a starting block, which may hold text already.
                if let delta = payload["delta"]?.object ?? payload["content_block"]?.object {
                    characters += delta.meteredLength("text") + delta.meteredLength("thinking") + delta.meteredLength("partial_json")
                }
            case "error":
                problems.record(.providerError)
            default:
                break
            }
        } catch {
            problems.record(.malformedEvent)
        }
    }

    /// Both usage events always carry a usage object; one without it is damaged, and
    /// would otherwise pass for a stream that reported less.
    private mutating func merge(_ usage: AnthropicUsageObject?, problems: inout TapProblems) {
        guard let usage else {
            problems.record(.malformedEvent)
            return
        }
        guard let reported = problems.reading({ try AnthropicUsageFields(usage) }) else { return }
        var merged = fields ?? AnthropicUsageFields()
        merged.overlay(reported)
        fields = merged
    }

    func finish(problems: inout TapProblems) -> (usage: ExtractedUsage?, outputCharacters: Int) {
        // Without `message_delta` the output count is message_start's placeholder;
        // without `message_start` the input counts of older streams are missing.
        if !sawFinalUsage { problems.record(.truncatedStream) }
        if !sawStart { problems.record(.malformedEvent) }
        let usage = fields.flatMap { fields in problems.reading { try fields.extracted(model: model) } }
        return (usage, characters)
    }
}
