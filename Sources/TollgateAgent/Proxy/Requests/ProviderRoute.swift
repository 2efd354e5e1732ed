import Foundation
import TollgateProviders

/// Where a request goes and how it is metered. Three ways in:
/// - base-URL mode: `/openai/v1/chat/completions` is OpenAI's `/v1/chat/completions` at
///   the configured upstream, and likewise for `/anthropic/`, `/gemini/` and `/azure/`;
/// - inside an intercepted `CONNECT api.openai.com:443`: the path as sent, to that host;
/// - absolute-form (HTTP_PROXY): `http://host/path`, to a provider host over TLS, or
///   unmetered to any other host when the policy tunnels other hosts.
struct ProviderRoute: Equatable {
    /// Nil for pass-through traffic to a host that is not a provider's: never metered.
    var provider: Provider?
    var upstream: UpstreamURL
    /// Path and query to request upstream (the upstream's base path included).
    var upstreamURI: String
    /// The provider-relative path without the query, e.g. `/v1/chat/completions`.
    var path: String
    var query: String?

    enum Failure: Error, Equatable {
        case unknownPrefix
        case notConfigured(String)
        /// An absolute-form request to a host the policy refuses.
        case deniedHost(String)
        case invalidTarget(String)
    }

    init(provider: Provider?, upstream: UpstreamURL, uri: String) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.provider = provider
        self.upstream = upstream
        upstreamURI = upstream.basePath + uri
        path = String(parts[0])
        query = parts.count > 1 ? String(parts[1]) : nil
    }

    private static let baseURLRoutes: [(prefix: String, provider: Provider, upstream: @Sendable (AgentConfig.Upstreams) -> UpstreamURL?, name: String)] = [
        ("/openai/", .openai, { $0.openai }, "openai"),
        ("/anthropic/", .anthropic, { $0.anthropic }, "anthropic"),
        ("/gemini/", .gemini, { $0.gemini }, "gemini"),
        // Azure paths keep their own `/openai/deployments/…` shape after the prefix.
        ("/azure/", .openai, { $0.azure }, "azure"),
    ]

    static func resolve(uri: String, upstreams: AgentConfig.Upstreams) -> Result<ProviderRoute, Failure> {
        guard let route = baseURLRoutes.first(where: { uri.hasPrefix($0.prefix) }) else { return .failure(.unknownPrefix) }
        guard let upstream = route.upstream(upstreams) else { return .failure(.notConfigured(route.name)) }
        return .success(ProviderRoute(provider: route.provider, upstream: upstream, uri: "/" + uri.dropFirst(route.prefix.count)))
    }

    /// An `http://host[:port]/path` request made to the agent as an HTTP proxy.
    static func resolve(absoluteURI uri: String, policy: InterceptPolicy) -> Result<ProviderRoute, Failure> {
        guard let components = URLComponents(string: uri), components.scheme?.lowercased() == "http",
              let host = components.host?.lowercased(), !host.isEmpty else {
            return .failure(.invalidTarget(uri))
        }
        var origin = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { origin += "?" + query }
        if let route = policy.route(forHost: host) {
            // Providers only speak HTTPS; a plain-HTTP request to one is sent over TLS.
            return .success(ProviderRoute(provider: route.provider, upstream: UpstreamURL(scheme: "https", host: host, port: 443, basePath: ""), uri: origin))
        }
        guard policy.otherHosts == .tunnel else { return .failure(.deniedHost(host)) }
        return .success(ProviderRoute(provider: nil, upstream: UpstreamURL(scheme: "http", host: host, port: components.port ?? 80, basePath: ""), uri: origin))
    }
}

/// The provider host a connection's TLS was intercepted for; requests on it go there.
struct InterceptedOrigin: Equatable {
    var route: InterceptPolicy.RouteName
    var upstream: UpstreamURL
}
