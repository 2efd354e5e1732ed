import Foundation
import TollgateCore

/// Usage of OpenAI's Responses API (`/v1/responses`) non-streaming responses.
///
/// `input_tokens` includes cached reads and `output_tokens` includes reasoning, as in
/// Chat Completions; only the field names differ.
public enum OpenAIResponsesUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try read(body).usage.get()
    }

    static func read(_ body: Data) -> BodyReading {
        guard let decoded = JSON.decode(OpenAIResponseObject.self, from: body) else { return .malformed }
        return decoded.reading
    }
}

/// A Responses API `response` object: the whole non-streaming body, and what the
/// terminal stream events (`response.completed`, `.incomplete`, `.failed`) carry.
struct OpenAIResponseObject: Decodable, Sendable {
    var model: Lenient<String>?
    var usage: Usage?
    var output: Lenient<[OutputItem]>?

    struct Usage: Decodable, Sendable {
        var input_tokens: Int64?
        var input_tokens_details: InputDetails?
        var output_tokens: Int64?
        var output_tokens_details: OutputDetails?

        func tokens() throws -> TokenUsage {
            TokenUsage(
                input: try plausible(input_tokens, "input_tokens"),
                cachedInput: try plausible(input_tokens_details?.cached_tokens, "input_tokens_details.cached_tokens"),
                cacheWrite: try plausible(input_tokens_details?.cache_write_tokens, "input_tokens_details.cache_write_tokens"),
                output: try plausible(output_tokens, "output_tokens"),
                reasoning: try plausible(output_tokens_details?.reasoning_tokens, "output_tokens_details.reasoning_tokens")
            )
        }
    }

    struct InputDetails: Decodable, Sendable {
        var cached_tokens: Int64?
        var cache_write_tokens: Int64?
    }

    struct OutputDetails: Decodable, Sendable {
        var reasoning_tokens: Int64?
    }

    /// A message (`content` parts), a reasoning item (`summary` parts) or a function call
    /// (`arguments`); other item kinds carry no generated text a meter can count.
    struct OutputItem: Decodable, Sendable {
        var content: Lenient<[Part]>?
        var summary: Lenient<[Part]>?
        var arguments: Lenient<String>?

        var meteredLength: Int {
            let parts = (content?.value ?? []) + (summary?.value ?? [])
            return parts.reduce(0) { $0 + $1.text.meteredLength + $1.refusal.meteredLength } + arguments.meteredLength
        }
    }

    struct Part: Decodable, Sendable {
        var text: Lenient<String>?
        var refusal: Lenient<String>?
    }

    var outputCharacters: Int { output?.value?.reduce(0) { $0 + $1.meteredLength } ?? 0 }

    var reading: BodyReading {
        BodyReading(model: model?.value, outputCharacters: outputCharacters) { try usage?.tokens() }
    }
}
