/// A Messages API `message`, and the same answer as Anthropic's stream of typed events.
struct AnthropicMessageBody {
    var id: String
    var model: String
    var text: String
    var usage: AnthropicUsage

    private var stopReason: String { usage.hitLimit ? "max_tokens" : "end_turn" }

    var serialized: String {
        message(content: [textBlock(text)], stopReason: .string(stopReason), usage: usage.json(outputTokens: usage.output)).serialized
    }

    /// `message_start` reports input and cache counts with a placeholder `output_tokens: 1`;
    /// `message_delta` carries the final count. Text arrives a few words per delta.
    var events: [String] {
        var events: [(String, OrderedJSON)] = []
        let start = message(content: [], stopReason: .null, usage: usage.json(outputTokens: 1))
        events.append(("message_start", .object([("type", .string("message_start")), ("message", start)])))
        events.append(("content_block_start", .object([
            ("type", .string("content_block_start")), ("index", .int(0)), ("content_block", textBlock("")),
        ])))
        events.append(("ping", .object([("type", .string("ping"))])))
        for piece in FillerText.pieces(of: text, wordsPerPiece: 4) {
            events.append(("content_block_delta", .object([
                ("type", .string("content_block_delta")), ("index", .int(0)),
                ("delta", .object([("type", .string("text_delta")), ("text", .string(piece))])),
            ])))
        }
        events.append(("content_block_stop", .object([("type", .string("content_block_stop")), ("index", .int(0))])))
        events.append(("message_delta", .object([
            ("type", .string("message_delta")),
            ("delta", .object([("stop_reason", .string(stopReason)), ("stop_sequence", .null)])),
            ("usage", usage.deltaJSON),
        ])))
        events.append(("message_stop", .object([("type", .string("message_stop"))])))
        return events.map { "event: \($0.0)\ndata: \($0.1.serialized)\n\n" }
    }

    private func textBlock(_ text: String) -> OrderedJSON {
        .object([("type", .string("text")), ("text", .string(text))])
    }

    private func message(content: [OrderedJSON], stopReason: OrderedJSON, usage: OrderedJSON) -> OrderedJSON {
        .object([
            ("model", .string(model)),
            ("id", .string(id)),
            ("type", .string("message")),
            ("role", .string("assistant")),
            ("content", .array(content)),
            ("stop_reason", stopReason),
            ("stop_sequence", .null),
            ("usage", usage),
        ])
    }
}
