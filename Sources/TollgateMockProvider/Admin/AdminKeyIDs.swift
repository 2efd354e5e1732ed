/// The ids the mock's admin reports give API keys, derived from the key itself so that a test
/// can name them in a key map: OpenAI's look like `key_…`, Anthropic's like `apikey_01…`.
/// Like the real ones, they reveal nothing of the key.
public enum AdminKeyIDs {
    public static func openAI(forKey apiKey: String) -> String {
        "key_" + hex(StableHash.fnv1a("openai-key-id:" + apiKey))
    }

    public static func anthropic(forKey apiKey: String) -> String {
        "apikey_01" + hex(StableHash.fnv1a("anthropic-key-id:" + apiKey))
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
