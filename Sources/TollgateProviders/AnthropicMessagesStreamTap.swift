import TollgateCore

/// Usage of a streamed Anthropic Messages response.
///
/// `message_start.message.usage` has the input and cache counts and a placeholder output
/// count; `message_delta.usage` has the cumulative final output count and, in the current
/// API, the input and cache counts again. Each field's last value wins
/// (`AnthropicUsageFields`). Text, thinking and tool-input JSON deltas are counted for
/// estimates; `ping` and `signature_delta` carry nothing generated.
public struct AnthropicMessagesStreamTap: UsageTap {
    private var tap: SSEUsageTap<Reader>

    public init(maxEventBytes: Int = SSEParser.defaultMaxEventBytes) {
        tap = SSEUsageTap(Reader(), maxEventBytes: maxEventBytes)
    }

    public mutating func consume(_ bytes: some Collection<UInt8>) { tap.consume(bytes) }

    public mutating func finish() -> TapResult { tap.finish() }

    struct Reader: SSEEventReader {
        private var fields: AnthropicUsageFields?
        private var model: String?
        private var characters = 0
        private var sawStart = false
        private var sawFinalUsage = false

        private struct Event: Decodable {
            var type: Lenient<String>?
            var message: Message?
            var usage: AnthropicUsageObject?
            var delta: Lenient<Delta>?
            var content_block: Lenient<Delta>?
        }

        private struct Message: Decodable {
            var model: Lenient<String>?
            var usage: AnthropicUsageObject?
        }

        /// A content block delta (`text_delta`, `thinking_delta`, `input_json_delta`), or a
        /// starting block, which may already hold text.
        private struct Delta: Decodable {
            var text: Lenient<String>?
            var thinking: Lenient<String>?
            var partial_json: Lenient<String>?
        }

        mutating func read(_ event: ServerSentEvent, problems: inout TapProblems) {
            guard !event.isBlank else { return }
            guard let payload = JSON.decode(Event.self, from: event.data) else {
                problems.record(.malformedEvent)
                return
            }
            switch payload.type?.value ?? event.event ?? "" {
            case "message_start":
                sawStart = true
                model = modelName(payload.message?.model?.value) ?? model
                merge(payload.message?.usage, problems: &problems)
            case "message_delta":
                sawFinalUsage = true
                merge(payload.usage, problems: &problems)
            case "content_block_delta", "content_block_start":
                let delta = payload.delta?.value ?? payload.content_block?.value
                characters += delta.map { $0.text.meteredLength + $0.thinking.meteredLength + $0.partial_json.meteredLength } ?? 0
            case "error":
                problems.record(.providerError)
            default:
                break
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
            let tokens = fields.flatMap { fields in problems.reading { try fields.tokens() } }
            return (tokens.map { ExtractedUsage(model: model, tokens: $0) }, characters)
        }
    }
}
