import Foundation
import TollgateCore

/// Usage of OpenAI's Embeddings (`/v1/embeddings`): only `prompt_tokens` (and
/// `total_tokens`) are reported; embeddings generate no output tokens.
public enum OpenAIEmbeddingsUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try read(body).usage.get()
    }

    static func read(_ body: Data) -> BodyReading {
        guard let decoded = JSON.decode(Body.self, from: body) else { return .malformed }
        return BodyReading(model: decoded.model?.value, outputCharacters: 0) {
            guard let usage = decoded.usage else { return nil }
            return TokenUsage(input: try plausible(usage.prompt_tokens, "prompt_tokens"))
        }
    }

    /// The `data` array (floats, or base64 as the SDK asks by default) is not declared,
    /// so it is skipped rather than decoded.
    private struct Body: Decodable {
        var model: Lenient<String>?
        var usage: Usage?
    }

    private struct Usage: Decodable {
        var prompt_tokens: Int64?
    }
}
