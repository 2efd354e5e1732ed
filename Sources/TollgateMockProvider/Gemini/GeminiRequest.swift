/// The parts of a Gemini `generateContent` request the mock's answer depends on.
///
/// The API reads proto-JSON, so every field is accepted in camelCase or snake_case.
struct GeminiRequest: Decodable {
    var contents: [Content]?
    var systemInstruction: Content?
    var maxOutputTokens: Int?
    var cachedContent: String?

    struct Content: Decodable {
        var parts: [Part]?
        var characterCount: Int { parts?.reduce(0) { $0 + ($1.text?.count ?? 0) } ?? 0 }
    }

    struct Part: Decodable {
        var text: String?
    }

    private struct GenerationConfig: Decodable {
        var maxOutputTokens: Int?
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            maxOutputTokens = try container.decodeIfPresent(Int.self, forKey: AnyKey("maxOutputTokens"))
                ?? container.decodeIfPresent(Int.self, forKey: AnyKey("max_output_tokens"))
        }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        func either<T: Decodable>(_ camel: String, _ snake: String) throws -> T? {
            try container.decodeIfPresent(T.self, forKey: AnyKey(camel)) ?? container.decodeIfPresent(T.self, forKey: AnyKey(snake))
        }
        contents = try container.decodeIfPresent([Content].self, forKey: AnyKey("contents"))
        systemInstruction = try either("systemInstruction", "system_instruction")
        let config: GenerationConfig? = try either("generationConfig", "generation_config")
        maxOutputTokens = config?.maxOutputTokens
        cachedContent = try either("cachedContent", "cached_content")
    }

    var promptTokens: Int {
        let turns = (contents ?? []) + [systemInstruction].compactMap { $0 }
        return PromptSize.tokens(characters: turns.reduce(0) { $0 + $1.characterCount }, messages: turns.count)
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
