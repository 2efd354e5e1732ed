/// A streamed chat completion as OpenAI sends it: `data: {chunk}` events, then `data: [DONE]`.
///
/// The order is the real one: a role delta, one content delta per word, a chunk with an
/// empty delta and the `finish_reason`, and only when the request set
/// `stream_options.include_usage` one more chunk with `choices: []` and the usage (every
/// other chunk then carries `"usage": null`). Without it no usage is ever sent, though
/// the request is billed all the same.
struct ChatCompletionChunks {
    var id: String
    var created: Int
    var model: String
    var content: String
    var usage: SimulatedUsage
    var includeUsage: Bool
    var style: ChatStyle = .openai

    var events: [String] {
        var chunks: [OrderedJSON] = []
        if style == .azure {
            // Azure opens with the prompt's content-filter verdict in a chunk of its own.
            chunks.append(.object([
                ("choices", .array([])), ("created", .int(0)), ("id", .string("")), ("model", .string("")),
                ("object", .string("")), ("prompt_filter_results", AzureContentFilter.prompt),
            ]))
        }
        chunks.append(chunk(delta: [("role", .string("assistant")), ("content", .string("")), ("refusal", .null)], paddingFor: ""))
        for piece in FillerText.pieces(of: content, wordsPerPiece: 1) {
            chunks.append(chunk(delta: [("content", .string(piece))], paddingFor: piece))
        }
        chunks.append(chunk(delta: [], finishReason: usage.hitLimit ? "length" : "stop", paddingFor: ""))
        if includeUsage {
            chunks.append(envelope(choices: [], usage: usage.chatUsageJSON, paddingFor: ""))
        }
        return chunks.map { "data: " + style.finish($0).serialized + "\n\n" } + ["data: [DONE]\n\n"]
    }

    private func chunk(delta: [(String, OrderedJSON)], finishReason: String? = nil, paddingFor text: String) -> OrderedJSON {
        let choice = OrderedJSON.object([
            ("index", .int(0)),
            ("delta", .object(delta)),
            ("logprobs", .null),
            ("finish_reason", finishReason.map(OrderedJSON.string) ?? .null),
        ])
        return envelope(choices: [choice], usage: includeUsage ? .null : nil, paddingFor: text)
    }

    private func envelope(choices: [OrderedJSON], usage: OrderedJSON?, paddingFor text: String) -> OrderedJSON {
        .compacting([
            ("id", .string(id)),
            ("object", .string("chat.completion.chunk")),
            ("created", .int(created)),
            ("model", .string(model)),
            ("service_tier", style == .openai ? .string("default") : nil),
            ("system_fingerprint", .string(ChatStyle.systemFingerprint(model: model))),
            ("choices", .array(choices)),
            ("usage", usage),
            ("obfuscation", .string(Obfuscation.padding(for: text))),
        ])
    }
}

/// OpenAI pads streamed events with a random `obfuscation` string so that an eavesdropper
/// cannot infer token lengths from packet sizes: short deltas get long padding.
enum Obfuscation {
    static func padding(for text: String) -> String {
        let length = text.isEmpty ? Int.random(in: 2...15) : max(1, 16 - text.count)
        return RandomID.token(length: length, alphabet: RandomID.base62)
    }
}
