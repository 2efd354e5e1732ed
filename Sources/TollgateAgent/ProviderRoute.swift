import TollgateProviders

/// Where a base-URL-mode request goes: `/openai/v1/chat/completions` is OpenAI's
/// `/v1/chat/completions` at the configured upstream.
struct ProviderRoute: Equatable {
    var provider: Provider
    var upstream: UpstreamURL
    /// Path and query to request upstream (the upstream's base path included).
    var upstreamURI: String
    /// The metered endpoint, e.g. `chat.completions`; nil for calls that carry no usage.
    var endpoint: String?

    static func resolve(uri: String, upstreams: AgentConfig.Upstreams) -> ProviderRoute? {
        let prefix = "/openai/"
        guard uri.hasPrefix(prefix) else { return nil }
        let rest = "/" + uri.dropFirst(prefix.count)
        let path = String(rest.prefix { $0 != "?" })
        return ProviderRoute(provider: .openai, upstream: upstreams.openai,
                             upstreamURI: upstreams.openai.basePath + rest,
                             endpoint: openAIEndpoint(path: path))
    }

    private static func openAIEndpoint(path: String) -> String? {
        switch path {
        case "/v1/chat/completions": "chat.completions"
        default: nil
        }
    }
}
