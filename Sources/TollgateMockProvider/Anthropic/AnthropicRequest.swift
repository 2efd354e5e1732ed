/// The parts of an Anthropic Messages request the mock's answer depends on: the prompt
/// (system and messages, as strings or content blocks) and where it asks for caching.
struct AnthropicRequest: Decodable {
    var model: String?
    var maxTokens: Int?
    var system: Content?
    var messages: [Message]?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, system, messages, stream
        case maxTokens = "max_tokens"
    }

    struct Message: Decodable {
        var role: String?
        var content: Content?
    }

    /// A string, or a list of blocks (`text`, `image`, `tool_result`, …), any of which may
    /// carry `cache_control` to mark the end of a cacheable prefix.
    enum Content: Decodable {
        case text(String)
        case blocks([Block])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .blocks(try container.decode([Block].self))
            }
        }

        var blocks: [Block] {
            switch self {
            case .text(let text): [Block(text: text)]
            case .blocks(let blocks): blocks
            }
        }
    }

    struct Block: Decodable {
        var text: String?
        var content: String?
        var cacheControl: CacheControl?

        enum CodingKeys: String, CodingKey {
            case text, content
            case cacheControl = "cache_control"
        }

        init(text: String) { self.text = text }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            text = try container.decodeIfPresent(String.self, forKey: .text)
            // A tool_result's content may itself be blocks; only its plain-text form is counted.
            content = try? container.decodeIfPresent(String.self, forKey: .content)
            cacheControl = try container.decodeIfPresent(CacheControl.self, forKey: .cacheControl)
        }

        var characterCount: Int { (text?.count ?? 0) + (content?.count ?? 0) }
    }

    struct CacheControl: Decodable {
        var type: String?
        /// `5m` (the default) or `1h`; the two are priced differently.
        var ttl: String?
    }

    /// The prompt's size and its cacheable prefix: everything up to and including the last
    /// block marked with `cache_control`, in the order Anthropic caches (system, then messages).
    var prompt: (tokens: Int, cacheablePrefix: Int, oneHourTTL: Bool) {
        var characters = 0
        var prefixCharacters = 0
        var oneHour = false
        let turns = [system].compactMap { $0 } + (messages ?? []).compactMap(\.content)
        for block in turns.flatMap(\.blocks) {
            characters += block.characterCount
            if let control = block.cacheControl {
                prefixCharacters = characters
                oneHour = control.ttl == "1h"
            }
        }
        let tokens = PromptSize.tokens(characters: characters, messages: turns.count)
        return (tokens, min(tokens, prefixCharacters / 4), oneHour)
    }
}
