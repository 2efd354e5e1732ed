import TollgateProviders

/// Where a base-URL-mode request goes: `/openai/v1/chat/completions` is OpenAI's
/// `/v1/chat/completions` at the configured upstream, and likewise for `/anthropic/`,
/// `/gemini/` and `/azure/`.
struct ProviderRoute: Equatable {
    var provider: Provider
    var upstream: UpstreamURL
    /// Path and query to request upstream (the upstream's base path included).
    var upstreamURI: String
    /// The provider-relative path without the query, e.g. `/v1/chat/completions`.
    var path: String
    var query: String?

    enum Failure: Error, Equatable {
        case unknownPrefix
        case notConfigured(String)
    }

    static func resolve(uri: String, upstreams: AgentConfig.Upstreams) -> Result<ProviderRoute, Failure> {
        let routes: [(prefix: String, provider: Provider, upstream: UpstreamURL?, name: String)] = [
            ("/openai/", .openai, upstreams.openai, "openai"),
            ("/anthropic/", .anthropic, upstreams.anthropic, "anthropic"),
            ("/gemini/", .gemini, upstreams.gemini, "gemini"),
            // Azure paths keep their own `/openai/deployments/…` shape after the prefix.
            ("/azure/", .openai, upstreams.azure, "azure"),
        ]
        guard let route = routes.first(where: { uri.hasPrefix($0.prefix) }) else { return .failure(.unknownPrefix) }
        guard let upstream = route.upstream else { return .failure(.notConfigured(route.name)) }
        let rest = "/" + uri.dropFirst(route.prefix.count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return .success(ProviderRoute(provider: route.provider, upstream: upstream, upstreamURI: upstream.basePath + rest,
                                      path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : nil))
    }
}
