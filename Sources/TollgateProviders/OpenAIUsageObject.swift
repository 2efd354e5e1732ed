import Foundation
import TollgateCore

/// The `usage` object shared by Chat Completions, legacy Completions and Embeddings.
///
/// `prompt_tokens` includes cache reads (and the newer cache writes) and
/// `completion_tokens` includes reasoning, which is exactly `TokenUsage`'s convention, so
/// the numbers are taken as they are. A count of the wrong type makes the report unreadable.
struct OpenAIUsageObject: Sendable {
    var prompt_tokens: Int64?
    var completion_tokens: Int64?
    var cached_tokens: Int64?
    var cache_write_tokens: Int64?
    var reasoning_tokens: Int64?

    init(_ usage: JSONObject) throws {
        prompt_tokens = try usage.count("prompt_tokens")
        completion_tokens = try usage.count("completion_tokens")
        let prompt = try usage.strictObject("prompt_tokens_details")
        cached_tokens = try prompt?.count("cached_tokens")
        cache_write_tokens = try prompt?.count("cache_write_tokens")
        reasoning_tokens = try usage.strictObject("completion_tokens_details")?.count("reasoning_tokens")
    }

    func tokens() throws -> TokenUsage {
        TokenUsage(
            input: try plausible(prompt_tokens, "prompt_tokens"),
            cachedInput: try plausible(cached_tokens, "prompt_tokens_details.cached_tokens"),
            cacheWrite: try plausible(cache_write_tokens, "prompt_tokens_details.cache_write_tokens"),
            output: try plausible(completion_tokens, "completion_tokens"),
            reasoning: try plausible(reasoning_tokens, "completion_tokens_details.reasoning_tokens")
        )
    }
}

/// A Chat Completions, legacy Completions or Embeddings response body, or one chunk of
/// their streams: the fields a meter reads. The hottest format on the proxy's path, so it
/// is read with `JSONValue` directly.
struct OpenAIChoicesBody: Sendable {
    var model: String?
    var usage: OpenAIUsageObject?
    /// Unicode scalars of generated text in the choices: a whole choice's `message` or a
    /// streamed `delta` (content, refusal, tool-call and function-call arguments), or a
    /// legacy completion's `text`.
    var outputCharacters = 0
    var hasError = false

    /// Nil when the bytes are not JSON, not an object, or carry a malformed `usage`.
    init?(_ bytes: some Collection<UInt8>) {
        guard let body = JSONValue(parsing: bytes)?.object else { return nil }
        model = body["model"]?.string
        do {
            usage = try body.strictObject("usage").map(OpenAIUsageObject.init)
        } catch {
            return nil
        }
        hasError = body.present("error") != nil
        outputCharacters = body.objects("choices")?.reduce(0) { $0 + Self.meteredLength(ofChoice: $1) } ?? 0
    }

    private static func meteredLength(ofChoice choice: JSONObject) -> Int {
        let message = choice["message"]?.object.map(meteredLength(ofMessage:)) ?? 0
        let delta = choice["delta"]?.object.map(meteredLength(ofMessage:)) ?? 0
        return message + delta + choice.meteredLength("text")
    }

    private static func meteredLength(ofMessage message: JSONObject) -> Int {
        let toolArguments = message.objects("tool_calls")?.reduce(0) { sum, call in
            sum + (call["function"]?.object?.meteredLength("arguments") ?? 0)
        } ?? 0
        // `function_call` is the pre-tools function calling, still sent by older deployments.
        let functionArguments = message["function_call"]?.object?.meteredLength("arguments") ?? 0
        return message.meteredLength("content") + message.meteredLength("refusal") + toolArguments + functionArguments
    }

    static func read(_ body: Data) -> BodyReading {
        guard let decoded = OpenAIChoicesBody(body) else { return .malformed }
        return BodyReading(model: decoded.model, outputCharacters: decoded.outputCharacters) {
            try decoded.usage?.tokens()
        }
    }
}
