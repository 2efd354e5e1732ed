import NIOHTTP1
import TollgateHTTP1

/// Where a request head goes: the proxy port's own liveness check, a provider route, or a
/// refusal the agent answers itself. A value, so the connection's state machine can route
/// without touching the channel.
struct ProxyRouter {
    var upstreams: AgentConfig.Upstreams
    var intercept: InterceptPolicy
    /// Set once the connection is an intercepted TLS connection to a provider host: every
    /// request on it goes there, whatever its path.
    var origin: InterceptedOrigin?

    enum Destination {
        /// `GET /healthz` on the proxy port itself, for load balancers; metrics and status are
        /// on the admin listener.
        case health
        case provider(ProviderRoute)
        case refused(ProviderRoute.Failure)
    }

    init(upstreams: AgentConfig.Upstreams, intercept: InterceptPolicy) {
        self.upstreams = upstreams
        self.intercept = intercept
    }

    func destination(of head: HTTPRequestHeadBytes) -> Destination {
        if let origin {
            return .provider(ProviderRoute(provider: origin.route.provider, upstream: origin.upstream, uri: head.target))
        }
        if head.method == .GET && head.target == "/healthz" { return .health }
        let resolved = head.target.hasPrefix("/")
            ? ProviderRoute.resolve(uri: head.target, upstreams: upstreams)
            : ProviderRoute.resolve(absoluteURI: head.target, policy: intercept)
        switch resolved {
        case .success(let route): return .provider(route)
        case .failure(let failure): return .refused(failure)
        }
    }
}

extension ProviderRoute.Failure {
    /// The label of `tollgate_agent_rejected_requests_total` for this refusal.
    var rejectionReason: String {
        switch self {
        case .unknownPrefix, .notConfigured: "unknown_route"
        case .deniedHost: "host_not_allowed"
        case .invalidTarget: "invalid_target"
        }
    }

    /// What the client is told, naming the fix.
    var errorResponse: ProviderErrorResponse {
        switch self {
        case .unknownPrefix:
            ProviderErrorResponse(status: .notFound, code: "unknown_route",
                                  message: "Tollgate agent: no provider route for this path; use /openai/, /anthropic/, /gemini/ or /azure/ followed by the provider's own path")
        case .notConfigured(let name):
            ProviderErrorResponse(status: .notFound, code: "unknown_route",
                                  message: "Tollgate agent: the \(name) route has no upstream; set upstreams.\(name) in the agent config")
        case .deniedHost(let host):
            ProviderErrorResponse(status: .forbidden, code: "host_not_allowed",
                                  message: "Tollgate agent: \(host) is not a provider host and intercept.other_hosts is deny")
        case .invalidTarget(let uri):
            ProviderErrorResponse(status: .badRequest, code: "invalid_request_target",
                                  message: "Tollgate agent: cannot proxy \"\(uri)\"; only http:// URLs go through HTTP_PROXY, https:// ones through CONNECT")
        }
    }
}
