import Foundation
import TollgateCore

/// Usage of OpenAI's Chat Completions (`/v1/chat/completions`) non-streaming responses.
///
/// `prompt_tokens` includes cached reads and `completion_tokens` includes reasoning, which
/// is exactly `TokenUsage`'s convention, so the numbers are taken as they are.
public enum OpenAIChatUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        let response: Response
        do {
            response = try JSONDecoder().decode(Response.self, from: body)
        } catch {
            throw UsageExtractionError.malformedJSON
        }
        guard let usage = response.usage else { throw UsageExtractionError.noUsage }
        let tokens = TokenUsage(
            input: try plausible(usage.prompt_tokens, "prompt_tokens"),
            cachedInput: try plausible(usage.prompt_tokens_details?.cached_tokens, "prompt_tokens_details.cached_tokens"),
            cacheWrite: try plausible(usage.prompt_tokens_details?.cache_write_tokens, "prompt_tokens_details.cache_write_tokens"),
            output: try plausible(usage.completion_tokens, "completion_tokens"),
            reasoning: try plausible(usage.completion_tokens_details?.reasoning_tokens, "completion_tokens_details.reasoning_tokens")
        )
        return ExtractedUsage(model: response.model, tokens: tokens)
    }

    private struct Response: Decodable {
        var model: String?
        var usage: Usage?
    }

    private struct Usage: Decodable {
        var prompt_tokens: Int64?
        var completion_tokens: Int64?
        var prompt_tokens_details: PromptDetails?
        var completion_tokens_details: CompletionDetails?
    }

    private struct PromptDetails: Decodable {
        var cached_tokens: Int64?
        var cache_write_tokens: Int64?
    }

    private struct CompletionDetails: Decodable {
        var reasoning_tokens: Int64?
    }
}
