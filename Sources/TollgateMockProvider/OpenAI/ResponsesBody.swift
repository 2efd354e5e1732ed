/// A Responses API `response` object and its stream of typed events, as OpenAI sends them.
///
/// Reasoning models put a `reasoning` item before the message. A response cut at
/// `max_output_tokens` is `incomplete` (and its stream ends with `response.incomplete`
/// instead of `response.completed`); usage is reported either way.
struct ResponsesBody {
    var id: String
    var createdAt: Int
    var model: String
    var instructions: String?
    var maxOutputTokens: Int?
    var text: String
    var usage: SimulatedUsage
    var messageID = RandomID.openAIResponses(prefix: "msg_")
    var reasoningID = RandomID.openAIResponses(prefix: "rs_")

    private var reasons: Bool { ModelSnapshots.isReasoningModel(model) }
    private var finalStatus: String { usage.hitLimit ? "incomplete" : "completed" }

    /// The non-streaming body, also the `response` of the stream's last event.
    var serialized: String { response(status: finalStatus, output: finalOutput, usage: usageJSON).serialized }

    var events: [String] {
        var events: [(String, [(String, OrderedJSON)])] = []
        let opening = response(status: "in_progress", output: [], usage: .null)
        events.append(("response.created", [("response", opening)]))
        events.append(("response.in_progress", [("response", opening)]))
        var outputIndex = 0
        if reasons {
            events.append(("response.output_item.added", [("output_index", .int(0)), ("item", reasoningItem)]))
            events.append(("response.output_item.done", [("output_index", .int(0)), ("item", reasoningItem)]))
            outputIndex = 1
        }
        let place: [(String, OrderedJSON)] = [("item_id", .string(messageID)), ("output_index", .int(outputIndex)), ("content_index", .int(0))]
        events.append(("response.output_item.added", [("output_index", .int(outputIndex)), ("item", message(status: "in_progress", text: nil))]))
        events.append(("response.content_part.added", place + [("part", part(text: ""))]))
        for piece in FillerText.pieces(of: text, wordsPerPiece: 1) {
            events.append(("response.output_text.delta", place + [
                ("delta", .string(piece)), ("logprobs", .array([])), ("obfuscation", .string(Obfuscation.padding(for: piece))),
            ]))
        }
        events.append(("response.output_text.done", place + [("text", .string(text)), ("logprobs", .array([]))]))
        events.append(("response.content_part.done", place + [("part", part(text: text))]))
        events.append(("response.output_item.done", [("output_index", .int(outputIndex)), ("item", message(status: finalStatus, text: text))]))
        events.append(("response." + finalStatus, [("response", response(status: finalStatus, output: finalOutput, usage: usageJSON))]))

        return events.enumerated().map { sequence, event in
            let data = OrderedJSON.object([("type", .string(event.0)), ("sequence_number", .int(sequence))] + event.1)
            return "event: \(event.0)\ndata: \(data.serialized)\n\n"
        }
    }

    private var finalOutput: [OrderedJSON] {
        (reasons ? [reasoningItem] : []) + [message(status: finalStatus, text: text)]
    }

    private var usageJSON: OrderedJSON {
        .object([
            ("input_tokens", .int(usage.promptTokens)),
            ("input_tokens_details", .object([("cached_tokens", .int(usage.cachedTokens))])),
            ("output_tokens", .int(usage.completionTokens)),
            ("output_tokens_details", .object([("reasoning_tokens", .int(usage.reasoningTokens))])),
            ("total_tokens", .int(usage.promptTokens + usage.completionTokens)),
        ])
    }

    private var reasoningItem: OrderedJSON {
        .object([("id", .string(reasoningID)), ("type", .string("reasoning")), ("summary", .array([]))])
    }

    private func message(status: String, text: String?) -> OrderedJSON {
        .object([
            ("id", .string(messageID)),
            ("type", .string("message")),
            ("status", .string(status)),
            ("content", .array(text.map { [part(text: $0)] } ?? [])),
            ("role", .string("assistant")),
        ])
    }

    private func part(text: String) -> OrderedJSON {
        .object([("type", .string("output_text")), ("annotations", .array([])), ("logprobs", .array([])), ("text", .string(text))])
    }

    private func response(status: String, output: [OrderedJSON], usage: OrderedJSON) -> OrderedJSON {
        .object([
            ("id", .string(id)),
            ("object", .string("response")),
            ("created_at", .int(createdAt)),
            ("status", .string(status)),
            ("background", .bool(false)),
            ("error", .null),
            ("incomplete_details", status == "incomplete" ? .object([("reason", .string("max_output_tokens"))]) : .null),
            ("instructions", instructions.map(OrderedJSON.string) ?? .null),
            ("max_output_tokens", maxOutputTokens.map(OrderedJSON.int) ?? .null),
            ("max_tool_calls", .null),
            ("model", .string(model)),
            ("output", .array(output)),
            ("parallel_tool_calls", .bool(true)),
            ("previous_response_id", .null),
            ("prompt_cache_key", .null),
            ("reasoning", .object([("effort", reasons ? .string("medium") : .null), ("summary", .null)])),
            ("safety_identifier", .null),
            // "auto" until the request is scheduled, then the tier that served it.
            ("service_tier", .string(status == "in_progress" ? "auto" : "default")),
            ("store", .bool(true)),
            ("temperature", .number("1.0")),
            ("text", .object([("format", .object([("type", .string("text"))])), ("verbosity", .string("medium"))])),
            ("tool_choice", .string("auto")),
            ("tools", .array([])),
            ("top_logprobs", .int(0)),
            ("top_p", .number("1.0")),
            ("truncation", .string("disabled")),
            ("usage", usage),
            ("user", .null),
            ("metadata", .object([])),
        ])
    }
}
