import Foundation
import TollgateCore

/// A metered request as the agent sees it before forwarding: which operation, for which
/// model, streamed or not, and who it is for.
public struct ProviderRequest: Equatable, Sendable {
    public var provider: Provider
    public var endpoint: ProviderEndpoint
    /// The requested model: from the body, else the Gemini path, else the Azure deployment.
    public var model: String?
    /// The Azure OpenAI deployment named in the path.
    public var deployment: String?
    public var isStream: Bool
    /// How the provider will frame a successful response.
    public var framing: ResponseFraming
    /// The request's output cap (`max_completion_tokens`/`max_tokens`/`max_output_tokens`,
    /// Anthropic `max_tokens`, Gemini `generationConfig.maxOutputTokens`).
    public var maxOutputTokens: Int64?
    /// End-user attribution: OpenAI `user` (else `safety_identifier`), Anthropic
    /// `metadata.user_id`.
    public var user: String?
    /// OpenAI streams only: the request already sets `stream_options.include_usage: true`.
    public var includesStreamUsage: Bool
    /// The `service_tier` the request asks for (OpenAI `flex`/`priority`…). The response's
    /// own `service_tier` is authoritative (a flex request may be served otherwise); this
    /// prices a call whose response never said.
    public var serviceTier: ServiceTier?

    public init(
        provider: Provider, endpoint: ProviderEndpoint, model: String? = nil, deployment: String? = nil,
        isStream: Bool = false, framing: ResponseFraming = .json, maxOutputTokens: Int64? = nil,
        user: String? = nil, includesStreamUsage: Bool = false
    ) {
        self.provider = provider
        self.endpoint = endpoint
        self.model = model
        self.deployment = deployment
        self.isStream = isStream
        self.framing = framing
        self.maxOutputTokens = maxOutputTokens
        self.user = user
        self.includesStreamUsage = includesStreamUsage
    }

    /// An OpenAI stream that will never report usage unless the body is rewritten with
    /// `OpenAIStreamOptions.requestingUsage(in:)`.
    ///
    /// Only for OpenAI itself: whether Anthropic's and Gemini's OpenAI-compatible endpoints
    /// accept `stream_options` is unverified, and a rejected argument would break the
    /// client's call. Azure OpenAI accepts it in current api-versions; old ones reject
    /// unknown arguments, so the agent may want to check `api-version` for deployments.
    public var needsStreamUsageOption: Bool {
        provider == .openai && isStream && !includesStreamUsage && (endpoint == .chatCompletions || endpoint == .completions)
    }

    /// The tap that reads this request's response. The response's `Content-Type` decides
    /// between SSE and JSON when it is known: error answers to stream requests are plain
    /// JSON, and a provider may ignore a stream flag.
    public func makeTap(contentType: String?) -> any UsageTap {
        let mediaType = contentType?.split(separator: ";").first?.trimmingOptionalWhitespace().lowercased()
        let framing: ResponseFraming
        switch mediaType {
        case "text/event-stream"?:
            framing = .serverSentEvents
        case nil:
            framing = self.framing
        default:
            // Gemini's array stream is served as application/json.
            framing = self.framing == .jsonArray ? .jsonArray : .json
        }
        switch (framing, endpoint) {
        case (.serverSentEvents, .chatCompletions), (.serverSentEvents, .completions):
            return OpenAIChatStreamTap()
        case (.serverSentEvents, .responses):
            return OpenAIResponsesStreamTap()
        case (.serverSentEvents, .messages):
            return AnthropicMessagesStreamTap()
        case (.serverSentEvents, .generateContent), (.serverSentEvents, .streamGenerateContent):
            return GeminiSSETap()
        case (.jsonArray, .streamGenerateContent):
            return GeminiJSONArrayTap()
        default:
            return BufferedJSONTap(endpoint: endpoint)
        }
    }
}
