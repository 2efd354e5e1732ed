import Foundation

/// The `index`-th request of a plan: its key, model and exact body bytes.
///
/// Bodies are byte-for-byte reproducible (sorted keys, no randomness) because the mock
/// derives output length from a hash of them; the same plan gives the same ledger.
struct TrafficRequest {
    var apiKey: String
    var model: String
    var body: Data

    init(index: Int, plan: TrafficPlan) {
        apiKey = plan.apiKeys[index % plan.apiKeys.count]
        model = plan.models[(index / plan.apiKeys.count) % plan.models.count]

        // Hashed rather than `index % n` so that no feature lines up with one key or model.
        let variety = StableHash.remix(UInt64(index), 7)
        var messages = [Message(role: "system", content: Self.systemPrompt(index: index))]
        messages.append(Message(role: "user", content: Self.question(index: index, words: 4 + Int(variety % 120))))
        if variety % 3 == 1 {
            // A multi-turn conversation: adds per-message overhead as well as text.
            messages.insert(Message(role: "assistant", content: "Noted, continuing the review."), at: 1)
            messages.insert(Message(role: "user", content: "Please keep the earlier context in mind."), at: 1)
        }

        // About one request in four sets a small limit, so some completions end with "length".
        let limit = (variety >> 8) % 4 == 1 ? 16 + Int((variety >> 16) % 48) : nil
        let reasoning = model.hasPrefix("o")
        let payload = Payload(
            model: model, messages: messages,
            max_tokens: reasoning ? nil : limit,
            max_completion_tokens: reasoning ? limit : nil
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        body = (try? encoder.encode(payload)) ?? Data()
    }

    /// About one request in five carries a long system prompt (over 1024 tokens), the case
    /// in which OpenAI reports cached tokens; the rest stay short and uncached.
    private static func systemPrompt(index: Int) -> String {
        let base = "You are a careful assistant for the Tollgate demo (request \(index))."
        guard StableHash.remix(UInt64(index), 5) % 5 == 2 else { return base }
        let paragraph = "Policy: answer briefly, cite the budget that applies, and never reveal keys. "
        return base + " " + String(repeating: paragraph, count: 60 + index % 11)
    }

    private static func question(index: Int, words: Int) -> String {
        let vocabulary = ["how", "much", "did", "team", "alpha", "spend", "on", "cached", "input", "this", "week", "and", "why"]
        let text = (0..<words).map { vocabulary[($0 * 7 + index) % vocabulary.count] }.joined(separator: " ")
        return "Question \(index): \(text)?"
    }

    private struct Message: Encodable {
        var role: String
        var content: String
    }

    private struct Payload: Encodable {
        var model: String
        var messages: [Message]
        var max_tokens: Int?
        var max_completion_tokens: Int?
    }
}
