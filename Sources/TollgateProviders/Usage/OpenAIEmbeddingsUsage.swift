import Foundation
import TollgateCore

/// Usage of OpenAI's Embeddings (`/v1/embeddings`): only `prompt_tokens` (and
/// `total_tokens`) are reported; embeddings generate no output tokens.
public enum OpenAIEmbeddingsUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try read(body).usage.get()
    }

    /// Only `model` and `usage` are read: the `data` array (floats, or base64 as the SDK
    /// asks by default) is skipped, never decoded.
    static func read(_ body: some Collection<UInt8>) -> BodyReading {
        guard let response = JSONValue(parsing: body)?.object else { return .malformed }
        let promptTokens: Int64?
        let usage: JSONObject?
        do {
            usage = try response.strictObject("usage")
            promptTokens = try usage?.count("prompt_tokens")
        } catch {
            return .malformed
        }
        return BodyReading(model: response.string("model"), outputCharacters: 0) {
            guard usage != nil else { return nil }
            return TokenUsage(input: try plausible(promptTokens, "prompt_tokens"))
        }
    }
}
