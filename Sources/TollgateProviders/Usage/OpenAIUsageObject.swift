import Foundation
import TollgateCore

/// OpenAI's `usage` object, in its two spellings: Chat Completions, legacy Completions and
/// Embeddings say `prompt_tokens`/`completion_tokens`, the Responses API
/// `input_tokens`/`output_tokens`; the meaning is the same.
///
/// The input count includes cache reads (and the newer cache writes) and the output count
/// includes reasoning, which is exactly `TokenUsage`'s convention, so the numbers are taken
/// as they are. A count of the wrong type makes the report unreadable.
struct OpenAIUsageObject: Sendable {
    /// The field names of one spelling.
    struct Spelling: Sendable {
        var input: String
        var output: String
        var inputDetails: String
        var outputDetails: String

        static let chat = Spelling(input: "prompt_tokens", output: "completion_tokens",
                                   inputDetails: "prompt_tokens_details", outputDetails: "completion_tokens_details")
        static let responses = Spelling(input: "input_tokens", output: "output_tokens",
                                        inputDetails: "input_tokens_details", outputDetails: "output_tokens_details")
    }

    let spelling: Spelling
    var input: Int64?
    var output: Int64?
    var cached: Int64?
    var cacheWrite: Int64?
    var reasoning: Int64?

    init(_ usage: JSONObject, spelling: Spelling = .chat) throws {
        self.spelling = spelling
        input = try usage.count(spelling.input)
        output = try usage.count(spelling.output)
        let details = try usage.strictObject(spelling.inputDetails)
        cached = try details?.count("cached_tokens")
        cacheWrite = try details?.count("cache_write_tokens")
        reasoning = try usage.strictObject(spelling.outputDetails)?.count("reasoning_tokens")
    }

    func tokens() throws -> TokenUsage {
        TokenUsage(
            input: try plausible(input, spelling.input),
            cachedInput: try plausible(cached, "\(spelling.inputDetails).cached_tokens"),
            cacheWrite: try plausible(cacheWrite, "\(spelling.inputDetails).cache_write_tokens"),
            output: try plausible(output, spelling.output),
            reasoning: try plausible(reasoning, "\(spelling.outputDetails).reasoning_tokens")
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
    /// `service_tier`: the tier that actually served the call (`default`, `flex`,
    /// `priority`…), which may differ from the one requested; every stream chunk repeats it.
    var serviceTier: ServiceTier?

    /// Nil when the bytes are not JSON, not an object, or carry a malformed `usage`.
    /// `readingServiceTier: false` skips `service_tier`, for a stream whose earlier chunk
    /// already said it: decoding it on each of a stream's chunks cost ~6 % of the meter's
    /// time per stream (docs/BENCHMARKS.md, "Metering before and after issue #16").
    init?(_ bytes: some Collection<UInt8>, readingServiceTier: Bool = true) {
        guard let body = JSONValue(parsing: bytes)?.object else { return nil }
        var usageObject: JSONValue?
        var choices: JSONValue?
        body.read(Self.keys) { index, value in
            switch index {
            case 0: model = value.string
            case 1: usageObject = value
            case 2: hasError = !value.isNull
            case 3: if readingServiceTier { serviceTier = value.serviceTier }
            default: choices = value
            }
        }
        // `usage` must be an object when present (null counts as absent).
        if let usageObject, !usageObject.isNull {
            guard let object = usageObject.object, let usage = try? OpenAIUsageObject(object) else { return nil }
            self.usage = usage
        }
        outputCharacters = choices.flatMap(JSONObject.objects(in:))?.reduce(0) { $0 + Self.meteredLength(ofChoice: $1) } ?? 0
    }

    private static let keys = JSONKeys(["model", "usage", "error", "service_tier", "choices"])
    private static let choiceKeys = JSONKeys(["message", "delta", "text"])
    private static let messageKeys = JSONKeys(["content", "refusal", "tool_calls", "function_call"])

    private static func meteredLength(ofChoice choice: JSONObject) -> Int {
        var length = 0
        choice.read(choiceKeys) { index, value in
            length += index == 2 ? value.meteredLength : (value.object.map(meteredLength(ofMessage:)) ?? 0)
        }
        return length
    }

    private static func meteredLength(ofMessage message: JSONObject) -> Int {
        var length = 0
        message.read(messageKeys) { index, value in
            switch index {
            case 0, 1: length += value.meteredLength
            case 2:
                length += JSONObject.objects(in: value)?.reduce(0) { sum, call in
                    sum + (call["function"]?.object?.meteredLength("arguments") ?? 0)
                } ?? 0
            // `function_call` is the pre-tools function calling, still sent by older deployments.
            default: length += value.object?.meteredLength("arguments") ?? 0
            }
        }
        return length
    }

    static func read(_ body: some Collection<UInt8>) -> BodyReading {
        guard let decoded = OpenAIChoicesBody(body) else { return .malformed }
        return BodyReading(model: decoded.model, outputCharacters: decoded.outputCharacters, serviceTier: decoded.serviceTier) {
            try decoded.usage?.tokens()
        }
    }
}
