import Foundation

/// Where the traffic driver sends each provider's requests.
///
/// Through the agent every provider has a base-URL route (`<agent>/openai/…`,
/// `<agent>/anthropic/…`, `<agent>/gemini/…`); the mock serves the same prefixed paths,
/// so either can be the target. Azure requests go to `azure/openai/deployments/…`, Azure's
/// own path, which the agent's OpenAI route forwards as `/deployments/…`.
public struct TrafficEndpoints: Sendable {
    /// Base of `v1/chat/completions`, `v1/responses`, `v1/embeddings`, `v1/completions`.
    public var openAI: URL
    /// Base of `openai/deployments/{deployment}/chat/completions`.
    public var azure: URL
    /// Base of `v1/messages`.
    public var anthropic: URL
    /// Base of `v1beta/models/{model}:generateContent`.
    public var gemini: URL

    public init(openAI: URL, azure: URL, anthropic: URL, gemini: URL) {
        self.openAI = openAI
        self.azure = azure
        self.anthropic = anthropic
        self.gemini = gemini
    }

    /// The agent's (or the mock's) root URL, e.g. `http://127.0.0.1:8787`.
    public init(agentRoot root: URL) {
        self.init(openAI: root.appendingPathComponent("openai"), azure: root,
                  anthropic: root.appendingPathComponent("anthropic"), gemini: root.appendingPathComponent("gemini"))
    }

    /// An OpenAI base URL as the original driver took it: `<agent>/openai` implies the
    /// agent's other routes beside it; anything else (the mock's root) serves every provider.
    public init(openAIBase base: URL) {
        if base.lastPathComponent == "openai" {
            self.init(agentRoot: base.deletingLastPathComponent())
            openAI = base
        } else {
            self.init(openAI: base, azure: base, anthropic: base, gemini: base)
        }
    }
}
