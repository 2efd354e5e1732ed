import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `index`-th request of a plan: its format, key, model and exact body bytes.
///
/// Bodies are byte-for-byte reproducible (fixed key order, no randomness) because the mock
/// derives usage from a hash of them; the same plan gives the same ledger.
struct TrafficRequest {
    var index: Int
    var format: TrafficFormat
    var apiKey: String
    var model: String
    var body: Data

    /// The conversation every format carries, in its own shape.
    struct Conversation {
        var system: String
        /// Alternating user and assistant turns, ending with the user's question.
        var turns: [(role: String, text: String)]
        /// One request in four sets a small output limit, so some answers end at the limit.
        var limit: Int?
        /// A long system prompt (over 1024 tokens): the case in which providers cache.
        var isLong: Bool
    }

    init(index: Int, plan: TrafficPlan) {
        self.index = index
        format = plan.formats[index % plan.formats.count]
        apiKey = plan.apiKeys[index % plan.apiKeys.count]
        let models = plan.models(for: format)
        model = models[(index / plan.apiKeys.count) % models.count]
        body = TrafficPayload.body(format: format, model: model, conversation: Self.conversation(index: index), index: index)
    }

    static func conversation(index: Int) -> Conversation {
        // Hashed rather than `index % n` so that no feature lines up with one key or model.
        let variety = StableHash.remix(UInt64(index), 7)
        var turns = [(role: "user", text: question(index: index, words: 4 + Int(variety % 120)))]
        if variety % 3 == 1 {
            // A multi-turn conversation: adds per-message overhead as well as text.
            turns.insert((role: "assistant", text: "Noted, continuing the review."), at: 0)
            turns.insert((role: "user", text: "Please keep the earlier context in mind."), at: 0)
        }
        let limit = (variety >> 8) % 4 == 1 ? 16 + Int((variety >> 16) % 48) : nil
        let long = StableHash.remix(UInt64(index), 5) % 5 == 2
        return Conversation(system: systemPrompt(index: index, long: long), turns: turns, limit: limit, isLong: long)
    }

    /// The URL and headers for this request, authenticated the way its provider expects.
    /// Anthropic and Gemini alternate between their two ways of passing the key, so a meter
    /// is exercised on both.
    func urlRequest(endpoints: TrafficEndpoints) -> URLRequest {
        var request: URLRequest
        switch format {
        case .openaiChat, .openaiChatStream, .openaiChatStreamWithUsage:
            request = URLRequest(url: endpoints.openAI.appendingPathComponent("v1/chat/completions"))
        case .openaiResponses, .openaiResponsesStream:
            request = URLRequest(url: endpoints.openAI.appendingPathComponent("v1/responses"))
        case .openaiEmbeddings:
            request = URLRequest(url: endpoints.openAI.appendingPathComponent("v1/embeddings"))
        case .openaiCompletions:
            request = URLRequest(url: endpoints.openAI.appendingPathComponent("v1/completions"))
        case .azureChat:
            let path = endpoints.azure.appendingPathComponent("openai/deployments/\(model)/chat/completions")
            request = URLRequest(url: Self.adding(query: "api-version=2024-10-21", to: path))
        case .anthropicMessages, .anthropicMessagesStream:
            request = URLRequest(url: endpoints.anthropic.appendingPathComponent("v1/messages"))
            request.setValue("2023-06-01", forHTTPHeaderField: "anthropic-version")
        case .geminiGenerate:
            request = URLRequest(url: endpoints.gemini.appendingPathComponent("v1beta/models/\(model):generateContent"))
        case .geminiStreamSSE:
            let path = endpoints.gemini.appendingPathComponent("v1beta/models/\(model):streamGenerateContent")
            request = URLRequest(url: Self.adding(query: "alt=sse", to: path))
        case .geminiStreamArray:
            request = URLRequest(url: endpoints.gemini.appendingPathComponent("v1/models/\(model):streamGenerateContent"))
        }
        switch format.provider {
        case .openai:
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        case .azure:
            request.setValue(apiKey, forHTTPHeaderField: "api-key")
        case .anthropic:
            request.setValue(index.isMultiple(of: 2) ? apiKey : nil, forHTTPHeaderField: "x-api-key")
            request.setValue(index.isMultiple(of: 2) ? nil : "Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        case .gemini:
            if index.isMultiple(of: 2) {
                request.setValue(apiKey, forHTTPHeaderField: "x-goog-api-key")
            } else {
                let escaped = apiKey.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? apiKey
                request.url = Self.adding(query: "key=\(escaped)", to: request.url!)
            }
        }
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return request
    }

    private static func adding(query: String, to url: URL) -> URL {
        URL(string: url.absoluteString + (url.query == nil ? "?" : "&") + query)!
    }

    private static func systemPrompt(index: Int, long: Bool) -> String {
        let base = "You are a careful assistant for the Tollgate demo (request \(index))."
        guard long else { return base }
        let paragraph = "Policy: answer briefly, cite the budget that applies, and never reveal keys. "
        return base + " " + String(repeating: paragraph, count: 60 + index % 11)
    }

    private static func question(index: Int, words: Int) -> String {
        let vocabulary = ["how", "much", "did", "team", "alpha", "spend", "on", "cached", "input", "this", "week", "and", "why"]
        let text = (0..<words).map { vocabulary[($0 * 7 + index) % vocabulary.count] }.joined(separator: " ")
        return "Question \(index): \(text)?"
    }
}
