import Foundation

/// The parts of a Chat Completions request body the mock's answer depends on.
///
/// Everything else (`temperature`, `tools`, …) is accepted and ignored, as an unknown
/// field would make a real client's request fail here but not at OpenAI.
struct ChatCompletionRequest: Decodable {
    var model: String?
    var messages: [Message]?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stream: Bool?
    var streamOptions: StreamOptions?

    enum CodingKeys: String, CodingKey {
        case model, messages, stream
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case streamOptions = "stream_options"
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// Usage is streamed only on request, in one extra chunk before `[DONE]`.
    var streamsUsage: Bool { streamOptions?.includeUsage == true }

    struct Message: Decodable {
        var role: String?
        var content: Content?
    }

    /// `content` is a string, an array of typed parts, or null (assistant turns with tool calls).
    enum Content: Decodable {
        case text(String)
        case parts([Part])

        struct Part: Decodable {
            var text: String?
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([Part].self))
            }
        }

        var characterCount: Int {
            switch self {
            case .text(let text): text.count
            case .parts(let parts): parts.reduce(0) { $0 + ($1.text?.count ?? 0) }
            }
        }
    }

    /// The newer name wins when both are sent, matching OpenAI (`max_tokens` is deprecated).
    var outputLimit: Int? { maxCompletionTokens ?? maxTokens }
}
