import TollgateCore
import TollgateProviders

/// What the agent does with proxy-style requests: `CONNECT host:443` (HTTPS_PROXY) and
/// absolute-form `GET http://host/…` (HTTP_PROXY).
///
/// Provider hosts are intercepted: TLS is terminated with a leaf certificate from the
/// agent's CA, the exchange is metered, and the request is re-encrypted to the real host.
/// Every other host gets a blind tunnel (the agent never sees inside it) or a refusal.
public struct InterceptPolicy: Sendable {
    /// A provider host, exactly or as `*.suffix` (one or more labels before the suffix).
    public struct ProviderHost: Sendable, Equatable {
        public var pattern: String
        public var route: RouteName

        func matches(_ host: String) -> Bool {
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst(1)  // ".openai.azure.com"
                return host.count > suffix.count && host.hasSuffix(suffix)
            }
            return host == pattern
        }
    }

    /// The provider wire format a host speaks; Azure is OpenAI's format on its own hosts.
    public enum RouteName: String, Sendable, CaseIterable {
        case openai, anthropic, gemini, azure

        var provider: Provider {
            switch self {
            case .openai, .azure: .openai
            case .anthropic: .anthropic
            case .gemini: .gemini
            }
        }
    }

    public enum OtherHosts: String, Sendable {
        /// Relay bytes without looking at them (the default: the agent must not break
        /// a CI runner's other HTTPS traffic).
        case tunnel
        /// Refuse with 403, for hosts that should reach nothing but the providers.
        case deny
    }

    public var providerHosts: [ProviderHost] = [
        ProviderHost(pattern: "api.openai.com", route: .openai),
        ProviderHost(pattern: "api.anthropic.com", route: .anthropic),
        ProviderHost(pattern: "generativelanguage.googleapis.com", route: .gemini),
        ProviderHost(pattern: "*.openai.azure.com", route: .azure),
    ]
    public var otherHosts = OtherHosts.tunnel
    /// PEM file of extra CAs trusted for upstream TLS, besides the system store (a private
    /// gateway's CA; tests use it to let a local mock pose as api.openai.com).
    public var upstreamCAFile: String?
    /// `host:port` → the address to dial instead, keeping the name for SNI and certificate
    /// checks (like curl's `--connect-to`).
    public var connectTo: [HostPort: HostPort] = [:]

    public init() {}

    /// The provider route for `host`, or nil when the host is not a provider's.
    public func route(forHost host: String) -> RouteName? {
        let name = host.lowercased().trimmingSuffix(".")
        return providerHosts.first { $0.matches(name) }?.route
    }

    /// Reads the `intercept:` section.
    init(_ section: ConfigNode?) throws {
        guard let section else { return }
        try section.rejectUnknownKeys(allowed: ["provider_hosts", "other_hosts", "upstream_ca_file", "connect_to"])
        if let hosts = try section.section("provider_hosts") {
            providerHosts = try hosts.keys.map { pattern in
                let value = try hosts.requiredString(pattern, expected: "one of openai, anthropic, gemini, azure")
                guard let route = RouteName(rawValue: value) else {
                    throw ConfigError.invalid(key: hosts.keyPath(pattern), value: value, expected: "one of openai, anthropic, gemini, azure")
                }
                let lower = pattern.lowercased()
                guard !lower.isEmpty, !lower.dropFirst(lower.hasPrefix("*.") ? 2 : 0).contains("*") else {
                    throw ConfigError.invalid(key: hosts.keyPath(pattern), value: pattern, expected: "a host name, or *.suffix for every host under it")
                }
                return ProviderHost(pattern: lower, route: route)
            }
        }
        let other = try section.string("other_hosts", default: otherHosts.rawValue)
        guard let otherHosts = OtherHosts(rawValue: other) else {
            throw ConfigError.invalid(key: section.keyPath("other_hosts"), value: other, expected: "tunnel or deny")
        }
        self.otherHosts = otherHosts
        upstreamCAFile = try section.optionalString("upstream_ca_file")
        if let overrides = try section.section("connect_to") {
            for key in overrides.keys {
                guard let from = HostPort(key) else {
                    throw ConfigError.invalid(key: overrides.keyPath(key), value: key, expected: "a host:port to redirect, such as api.openai.com:443")
                }
                connectTo[HostPort(host: from.host.lowercased(), port: from.port)] = try overrides.hostPort(key, default: from)
            }
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
