import Foundation

/// What the agent reads from a request body before forwarding it.
public struct RequestSummary: Equatable, Sendable {
    public var model: String?
    public var stream: Bool
    /// The provider's own end-user field (OpenAI `user`), used for attribution.
    public var user: String?

    public init(model: String? = nil, stream: Bool = false, user: String? = nil) {
        self.model = model
        self.stream = stream
        self.user = user
    }

    /// Reads an OpenAI-style JSON request body; anything unreadable gives an empty summary,
    /// because a request the agent cannot parse is still forwarded (the provider judges it).
    public static func openAI(body: Data) -> RequestSummary {
        guard let request = try? JSONDecoder().decode(OpenAIRequestBody.self, from: body) else { return RequestSummary() }
        return RequestSummary(model: request.model, stream: request.stream ?? false, user: request.user)
    }

    private struct OpenAIRequestBody: Decodable {
        var model: String?
        var stream: Bool?
        var user: String?
    }
}
