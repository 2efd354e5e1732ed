/// The metered API operations, named by their wire format: the response shape and how
/// usage is reported follow from this (and from `ResponseFraming`).
public enum ProviderEndpoint: String, CaseIterable, Sendable {
    /// OpenAI `/v1/chat/completions` (also Azure OpenAI, and the OpenAI-compatible
    /// endpoints of Anthropic and Gemini).
    case chatCompletions = "chat.completions"
    /// OpenAI `/v1/responses`.
    case responses
    /// OpenAI's legacy `/v1/completions`.
    case completions
    /// OpenAI `/v1/embeddings`.
    case embeddings
    /// Anthropic `/v1/messages`.
    case messages
    /// Gemini `models/{model}:generateContent`.
    case generateContent
    /// Gemini `models/{model}:streamGenerateContent`.
    case streamGenerateContent
}

/// How a successful response body is framed.
public enum ResponseFraming: String, Sendable {
    /// One JSON document.
    case json
    /// `text/event-stream`.
    case serverSentEvents
    /// One JSON array whose elements stream in (Gemini without `alt=sse`).
    case jsonArray
}
