import Foundation

/// The model and usage a client reads from a chat.completion response.
///
/// Decoded independently of the mock's own types on purpose: the driver checks what went
/// over the wire (possibly rewritten by the agent), not what the mock meant to send.
struct ObservedCompletion: Decodable {
    var model: String
    var usage: Usage

    struct Usage: Decodable {
        var prompt_tokens: Int
        var completion_tokens: Int
        var prompt_tokens_details: PromptDetails?
        var completion_tokens_details: CompletionDetails?
    }

    struct PromptDetails: Decodable {
        var cached_tokens: Int?
    }

    struct CompletionDetails: Decodable {
        var reasoning_tokens: Int?
    }

    var cachedTokens: Int { usage.prompt_tokens_details?.cached_tokens ?? 0 }
    var reasoningTokens: Int { usage.completion_tokens_details?.reasoning_tokens ?? 0 }
}
