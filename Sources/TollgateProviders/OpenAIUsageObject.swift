import Foundation
import TollgateCore

/// The `usage` object shared by Chat Completions, legacy Completions and Embeddings.
///
/// `prompt_tokens` includes cache reads (and the newer cache writes) and
/// `completion_tokens` includes reasoning, which is exactly `TokenUsage`'s convention, so
/// the numbers are taken as they are.
struct OpenAIUsageObject: Decodable, Sendable {
    var prompt_tokens: Int64?
    var completion_tokens: Int64?
    var prompt_tokens_details: PromptDetails?
    var completion_tokens_details: CompletionDetails?

    struct PromptDetails: Decodable, Sendable {
        var cached_tokens: Int64?
        var cache_write_tokens: Int64?
    }

    struct CompletionDetails: Decodable, Sendable {
        var reasoning_tokens: Int64?
    }

    func tokens() throws -> TokenUsage {
        TokenUsage(
            input: try plausible(prompt_tokens, "prompt_tokens"),
            cachedInput: try plausible(prompt_tokens_details?.cached_tokens, "prompt_tokens_details.cached_tokens"),
            cacheWrite: try plausible(prompt_tokens_details?.cache_write_tokens, "prompt_tokens_details.cache_write_tokens"),
            output: try plausible(completion_tokens, "completion_tokens"),
            reasoning: try plausible(completion_tokens_details?.reasoning_tokens, "completion_tokens_details.reasoning_tokens")
        )
    }
}

/// A Chat Completions or legacy Completions choice, whole (`message`, `text`) or
/// streamed (`delta`, `text`); only its generated text is read.
struct OpenAIChoice: Decodable, Sendable {
    var message: Lenient<Message>?
    var delta: Lenient<Message>?
    var text: Lenient<String>?

    struct Message: Decodable, Sendable {
        var content: Lenient<String>?
        var refusal: Lenient<String>?
        var tool_calls: Lenient<[ToolCall]>?
        /// The pre-tools function calling, still sent by older deployments.
        var function_call: Lenient<Function>?

        var meteredLength: Int {
            let toolArguments = tool_calls?.value?.reduce(0) { $0 + ($1.function?.value?.arguments.meteredLength ?? 0) } ?? 0
            return content.meteredLength + refusal.meteredLength + toolArguments
                + (function_call?.value?.arguments.meteredLength ?? 0)
        }
    }

    struct ToolCall: Decodable, Sendable {
        var function: Lenient<Function>?
    }

    struct Function: Decodable, Sendable {
        var arguments: Lenient<String>?
    }

    var meteredLength: Int {
        (message?.value?.meteredLength ?? 0) + (delta?.value?.meteredLength ?? 0) + text.meteredLength
    }
}

extension Optional where Wrapped == Lenient<[OpenAIChoice]> {
    var meteredLength: Int { self?.value?.reduce(0) { $0 + $1.meteredLength } ?? 0 }
}

/// A Chat Completions, legacy Completions or Embeddings response body, or one chunk of
/// their streams: the fields a meter reads.
struct OpenAIChoicesBody: Decodable, Sendable {
    var model: Lenient<String>?
    var usage: OpenAIUsageObject?
    var choices: Lenient<[OpenAIChoice]>?
    var error: AnyJSON?

    static func read(_ body: Data) -> BodyReading {
        guard let decoded = JSON.decode(OpenAIChoicesBody.self, from: body) else { return .malformed }
        return BodyReading(model: decoded.model?.value, outputCharacters: decoded.choices.meteredLength) {
            try decoded.usage?.tokens()
        }
    }
}
