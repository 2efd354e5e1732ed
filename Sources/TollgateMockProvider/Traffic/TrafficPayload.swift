import Foundation

/// Request bodies for each traffic format, built from the same conversation.
///
/// Each exercises what a meter must get right in that API: long system prompts (cached
/// input), small output limits (truncated answers), Anthropic `cache_control` breakpoints
/// with both TTLs, Gemini explicit caches, and base64 embeddings as the SDKs request them.
enum TrafficPayload {
    static func body(format: TrafficFormat, model: String, conversation: TrafficRequest.Conversation, index: Int) -> Data {
        switch format {
        case .openaiChat, .openaiChatStream, .openaiChatStreamWithUsage, .azureChat:
            return chat(format: format, model: model, conversation: conversation)
        case .openaiResponses, .openaiResponsesStream:
            return Data(responses(model: model, conversation: conversation, stream: format == .openaiResponsesStream).serialized.utf8)
        case .openaiEmbeddings:
            return Data(embeddings(model: model, conversation: conversation, index: index).serialized.utf8)
        case .openaiCompletions:
            return Data(completions(model: model, conversation: conversation, index: index).serialized.utf8)
        case .anthropicMessages, .anthropicMessagesStream:
            return Data(anthropic(model: model, conversation: conversation, index: index, stream: format == .anthropicMessagesStream).serialized.utf8)
        case .geminiGenerate, .geminiStreamSSE, .geminiStreamArray:
            return Data(gemini(conversation: conversation, index: index).serialized.utf8)
        }
    }

    /// Encoded exactly as the driver always has (sorted keys) so plain chat traffic keeps
    /// its byte-identical bodies, and with them its ledger, across versions.
    private static func chat(format: TrafficFormat, model: String, conversation: TrafficRequest.Conversation) -> Data {
        struct Message: Encodable { var role: String; var content: String }
        struct StreamOptions: Encodable { var include_usage: Bool }
        struct Payload: Encodable {
            var model: String
            var messages: [Message]
            var max_tokens: Int?
            var max_completion_tokens: Int?
            var stream: Bool?
            var stream_options: StreamOptions?
        }
        let reasoning = model.hasPrefix("o") || model.hasPrefix("gpt-5")
        let messages = [Message(role: "system", content: conversation.system)]
            + conversation.turns.map { Message(role: $0.role, content: $0.text) }
        let payload = Payload(
            model: model, messages: messages,
            max_tokens: reasoning ? nil : conversation.limit,
            max_completion_tokens: reasoning ? conversation.limit : nil,
            stream: format == .openaiChatStream || format == .openaiChatStreamWithUsage ? true : nil,
            stream_options: format == .openaiChatStreamWithUsage ? StreamOptions(include_usage: true) : nil
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(payload)) ?? Data()
    }

    private static func responses(model: String, conversation: TrafficRequest.Conversation, stream: Bool) -> OrderedJSON {
        .compacting([
            ("model", .string(model)),
            ("instructions", .string(conversation.system)),
            ("input", .array(conversation.turns.map { .object([("role", .string($0.role)), ("content", .string($0.text))]) })),
            ("max_output_tokens", conversation.limit.map(OrderedJSON.int)),
            ("stream", stream ? .bool(true) : nil),
        ])
    }

    private static func embeddings(model: String, conversation: TrafficRequest.Conversation, index: Int) -> OrderedJSON {
        let texts = conversation.turns.map(\.text)
        return .object([
            ("model", .string(model)),
            ("input", texts.count == 1 ? .string(texts[0]) : .array(texts.map(OrderedJSON.string))),
            ("encoding_format", .string(index.isMultiple(of: 2) ? "float" : "base64")),
        ])
    }

    private static func completions(model: String, conversation: TrafficRequest.Conversation, index: Int) -> OrderedJSON {
        let prompt = ([conversation.system] + conversation.turns.map(\.text)).joined(separator: "\n\n")
        // Half leave max_tokens out, and so get the API's default of 16.
        let limit = conversation.limit ?? (index.isMultiple(of: 2) ? nil : 256)
        return .compacting([("model", .string(model)), ("prompt", .string(prompt)), ("max_tokens", limit.map(OrderedJSON.int))])
    }

    private static func anthropic(model: String, conversation: TrafficRequest.Conversation, index: Int, stream: Bool) -> OrderedJSON {
        let system: OrderedJSON
        if conversation.isLong {
            // A breakpoint after the long system prompt; one in four asks for the 1-hour TTL.
            let control: [(String, OrderedJSON)] = [("type", .string("ephemeral"))] + (index % 4 == 3 ? [("ttl", .string("1h"))] : [])
            system = .array([.object([("type", .string("text")), ("text", .string(conversation.system)), ("cache_control", .object(control))])])
        } else {
            system = .string(conversation.system)
        }
        return .compacting([
            ("model", .string(model)),
            ("max_tokens", .int(conversation.limit ?? 1024)),
            ("system", system),
            ("messages", .array(conversation.turns.map { .object([("role", .string($0.role)), ("content", .string($0.text))]) })),
            ("stream", stream ? .bool(true) : nil),
        ])
    }

    private static func gemini(conversation: TrafficRequest.Conversation, index: Int) -> OrderedJSON {
        let contents = conversation.turns.map { turn in
            OrderedJSON.object([
                ("role", .string(turn.role == "assistant" ? "model" : "user")),
                ("parts", .array([.object([("text", .string(turn.text))])])),
            ])
        }
        return .compacting([
            ("contents", .array(contents)),
            ("systemInstruction", .object([("parts", .array([.object([("text", .string(conversation.system))])]))])),
            ("generationConfig", conversation.limit.map { .object([("maxOutputTokens", .int($0))]) }),
            // About one request in ten uses an explicit context cache.
            ("cachedContent", index % 10 == 7 ? .string("cachedContents/tollgate-demo-\(index % 3)") : nil),
        ])
    }
}
