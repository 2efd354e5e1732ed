/// The parts of a Responses API request (`POST /v1/responses`) the mock's answer depends on.
struct ResponsesRequest: Decodable {
    var model: String?
    var input: Input?
    var instructions: String?
    var maxOutputTokens: Int?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, input, instructions, stream
        case maxOutputTokens = "max_output_tokens"
    }

    /// `input` is a plain string or a list of items: messages (whose content is a string or
    /// typed parts) and others, such as tool outputs.
    enum Input: Decodable {
        case text(String)
        case items([Item])

        struct Item: Decodable {
            var content: ChatCompletionRequest.Content?
            var output: String?
            var characterCount: Int { (content?.characterCount ?? 0) + (output?.count ?? 0) }
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .items(try container.decode([Item].self))
            }
        }
    }

    var promptTokens: Int {
        var characters = instructions?.count ?? 0
        var messages = instructions == nil ? 0 : 1
        switch input {
        case .text(let text):
            characters += text.count
            messages += 1
        case .items(let items):
            characters += items.reduce(0) { $0 + $1.characterCount }
            messages += items.count
        case nil:
            break
        }
        return PromptSize.tokens(characters: characters, messages: messages)
    }
}
