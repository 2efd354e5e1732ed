import Foundation
import TollgateCore

/// The model and usage a client reads from a response, normalised to Tollgate's classes.
///
/// Decoded independently of the mock's own types on purpose: the driver checks what went
/// over the wire (possibly rewritten by the agent), not what the mock meant to send. Each
/// stream is read the way a correct client must: the usage chunk of a chat stream, the
/// terminal event of a Responses stream, the last value of each Anthropic field, the last
/// Gemini chunk (never a sum).
struct ObservedUsage {
    var model: String
    /// Nil when the response shows no usage at all (a chat stream without `include_usage`).
    var tokens: TokenUsage?

    static func read(_ format: TrafficFormat, from body: Data) throws -> ObservedUsage {
        let text = String(decoding: body, as: UTF8.self)
        switch format {
        case .openaiChat, .openaiCompletions, .azureChat:
            return try decode(WireOpenAI.self, body).observed
        case .openaiChatStream, .openaiChatStreamWithUsage:
            return try chatStream(text)
        case .openaiResponses:
            return try decode(WireResponse.self, body).observed
        case .openaiResponsesStream:
            return try responsesStream(text)
        case .openaiEmbeddings:
            return try decode(WireOpenAI.self, body).observed
        case .anthropicMessages:
            return try decode(WireAnthropic.self, body).observed
        case .anthropicMessagesStream:
            return try anthropicStream(text)
        case .geminiGenerate:
            return try decode(WireGeminiChunk.self, body).observed
        case .geminiStreamSSE:
            let chunks = try ServerSentEvent.parse(text).map { try decode(WireGeminiChunk.self, Data($0.data.utf8)) }
            guard let last = chunks.last else { throw ObservationError("the Gemini stream had no events") }
            return last.observed
        case .geminiStreamArray:
            guard let last = try decode([WireGeminiChunk].self, body).last else { throw ObservationError("the Gemini stream array was empty") }
            return last.observed
        }
    }

    private static func chatStream(_ text: String) throws -> ObservedUsage {
        let events = ServerSentEvent.parse(text)
        guard events.last?.data == "[DONE]" else { throw ObservationError("the chat stream did not end with data: [DONE]") }
        let chunks = try events.dropLast().map { try decode(WireChatChunk.self, Data($0.data.utf8)) }
        guard let model = chunks.first?.model else { throw ObservationError("the chat stream had no chunks") }
        let usage = chunks.compactMap(\.usage).last
        return ObservedUsage(model: model, tokens: usage.map(WireOpenAI.tokens))
    }

    private static func responsesStream(_ text: String) throws -> ObservedUsage {
        let terminal = ["response.completed", "response.incomplete", "response.failed"]
        guard let last = ServerSentEvent.parse(text).last, let name = last.event, terminal.contains(name) else {
            throw ObservationError("the Responses stream did not end with response.completed, .incomplete or .failed")
        }
        struct Terminal: Decodable { var response: WireResponse }
        return try decode(Terminal.self, Data(last.data.utf8)).response.observed
    }

    /// Input and cache counts come in `message_start` and again in `message_delta`, output
    /// as a placeholder then the final total: the last value of each field is the truth.
    private static func anthropicStream(_ text: String) throws -> ObservedUsage {
        struct Event: Decodable {
            var type: String
            var message: WireAnthropic?
            var usage: WireAnthropic.Usage?
        }
        let events = try ServerSentEvent.parse(text).map { try decode(Event.self, Data($0.data.utf8)) }
        guard events.last?.type == "message_stop" else { throw ObservationError("the Anthropic stream did not end with message_stop") }
        guard let start = events.first(where: { $0.type == "message_start" })?.message else {
            throw ObservationError("the Anthropic stream had no message_start")
        }
        var usage = start.usage
        for delta in events where delta.type == "message_delta" {
            guard let update = delta.usage else { continue }
            usage.input_tokens = update.input_tokens ?? usage.input_tokens
            usage.cache_creation_input_tokens = update.cache_creation_input_tokens ?? usage.cache_creation_input_tokens
            usage.cache_read_input_tokens = update.cache_read_input_tokens ?? usage.cache_read_input_tokens
            usage.output_tokens = update.output_tokens ?? usage.output_tokens
        }
        return ObservedUsage(model: start.model, tokens: usage.tokens)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ObservationError("unreadable \(T.self): \(error)")
        }
    }
}

struct ObservationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Chat completions, legacy completions and embeddings share one usage shape.
private struct WireOpenAI: Decodable {
    var model: String
    var usage: Usage

    struct Usage: Decodable {
        var prompt_tokens: Int64
        var completion_tokens: Int64?
        var prompt_tokens_details: Details?
        var completion_tokens_details: Details?
    }

    struct Details: Decodable {
        var cached_tokens: Int64?
        var cache_write_tokens: Int64?
        var reasoning_tokens: Int64?
    }

    var observed: ObservedUsage { ObservedUsage(model: model, tokens: Self.tokens(usage)) }

    static func tokens(_ usage: Usage) -> TokenUsage {
        TokenUsage(input: usage.prompt_tokens, cachedInput: usage.prompt_tokens_details?.cached_tokens ?? 0,
                   cacheWrite: usage.prompt_tokens_details?.cache_write_tokens ?? 0,
                   output: usage.completion_tokens ?? 0, reasoning: usage.completion_tokens_details?.reasoning_tokens ?? 0)
    }
}

private struct WireChatChunk: Decodable {
    var model: String
    var usage: WireOpenAI.Usage?
}

private struct WireResponse: Decodable {
    var model: String
    var usage: Usage?

    struct Usage: Decodable {
        var input_tokens: Int64
        var input_tokens_details: Details?
        var output_tokens: Int64
        var output_tokens_details: Details?
    }

    struct Details: Decodable {
        var cached_tokens: Int64?
        var reasoning_tokens: Int64?
    }

    var observed: ObservedUsage {
        ObservedUsage(model: model, tokens: usage.map {
            TokenUsage(input: $0.input_tokens, cachedInput: $0.input_tokens_details?.cached_tokens ?? 0,
                       output: $0.output_tokens, reasoning: $0.output_tokens_details?.reasoning_tokens ?? 0)
        })
    }
}

private struct WireAnthropic: Decodable {
    var model: String
    var usage: Usage

    struct Usage: Decodable {
        var input_tokens: Int64?
        var cache_creation_input_tokens: Int64?
        var cache_read_input_tokens: Int64?
        var cache_creation: CacheCreation?
        var output_tokens: Int64?

        struct CacheCreation: Decodable {
            var ephemeral_1h_input_tokens: Int64?
        }

        /// Anthropic's `input_tokens` excludes both cache classes; Tollgate's input includes them.
        var tokens: TokenUsage {
            let read = cache_read_input_tokens ?? 0
            let write = cache_creation_input_tokens ?? 0
            return TokenUsage(input: (input_tokens ?? 0) + read + write, cachedInput: read, cacheWrite: write,
                              cacheWrite1h: cache_creation?.ephemeral_1h_input_tokens ?? 0, output: output_tokens ?? 0)
        }
    }

    var observed: ObservedUsage { ObservedUsage(model: model, tokens: usage.tokens) }
}

private struct WireGeminiChunk: Decodable {
    var modelVersion: String
    var usageMetadata: Usage?

    struct Usage: Decodable {
        var promptTokenCount: Int64?
        var candidatesTokenCount: Int64?
        var cachedContentTokenCount: Int64?
        var thoughtsTokenCount: Int64?
    }

    /// Gemini's prompt count already includes the cache; its candidates exclude thoughts,
    /// which are billed as output.
    var observed: ObservedUsage {
        ObservedUsage(model: modelVersion, tokens: usageMetadata.map {
            let thoughts = $0.thoughtsTokenCount ?? 0
            return TokenUsage(input: $0.promptTokenCount ?? 0, cachedInput: $0.cachedContentTokenCount ?? 0,
                              output: ($0.candidatesTokenCount ?? 0) + thoughts, reasoning: thoughts)
        })
    }
}
