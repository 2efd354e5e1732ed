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

    static func read(_ body: some Collection<UInt8>) -> BodyReading {
        guard let object = JSONValue(parsing: body)?.object, let response = try? OpenAIResponseObject(object) else { return .malformed }
        return response.reading
    }
}

/// A Responses API `response` object: the whole non-streaming body, and what the
/// stream events carry (in full on `response.created` and the terminal
/// `response.completed`, `.incomplete`, `.failed`).
struct OpenAIResponseObject {
    var model: String?
    var usage: OpenAIUsageObject?
    /// The tier that served the response (see `OpenAIChoicesBody.serviceTier`).
    var serviceTier: ServiceTier?
    private let object: JSONObject

    /// Throws when `usage` has the wrong shape: that must show up as a malformed report,
    /// not as one without usage.
    init(_ object: JSONObject) throws {
        self.object = object
        model = object.string("model")
        serviceTier = object["service_tier"]?.serviceTier
        usage = try object.strictObject("usage").map { try OpenAIUsageObject($0, spelling: .responses) }
    }

    /// Generated text in `output`: a message's `content` parts, a reasoning item's
    /// `summary` parts (text and refusals) and a function call's `arguments`; other item
    /// kinds carry no text a meter can count. Computed on demand: streams never need it.
    var outputCharacters: Int {
        object.objects("output")?.reduce(0) { sum, item in
            let parts = (item.objects("content") ?? []) + (item.objects("summary") ?? [])
            return sum + parts.reduce(0) { $0 + $1.meteredLength("text") + $1.meteredLength("refusal") } + item.meteredLength("arguments")
        } ?? 0
    }

    var reading: BodyReading {
        BodyReading(model: model, outputCharacters: outputCharacters, serviceTier: serviceTier) { try usage?.tokens() }
    }
}
