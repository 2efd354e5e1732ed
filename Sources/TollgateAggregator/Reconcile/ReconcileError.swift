/// Why a provider's report could not be read; each names the provider, the endpoint and what
/// to do, and never the admin key.
public enum ReconcileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 401 or 403: the admin key is wrong, revoked, or not an admin key.
    case unauthorized(provider: ReconcileProvider, status: Int, message: String)
    /// Any other non-2xx answer.
    case http(provider: ReconcileProvider, endpoint: String, status: Int, message: String)
    /// No answer at all (connection refused, timeout, TLS).
    case transport(provider: ReconcileProvider, endpoint: String, message: String)
    /// An answer that is not the documented shape.
    case malformed(provider: ReconcileProvider, endpoint: String, detail: String)

    /// The `outcome` label of `tollgate_reconcile_runs_total` for this failure.
    public var outcome: String {
        switch self {
        case .unauthorized: "auth_error"
        case .http, .transport: "http_error"
        case .malformed: "malformed"
        }
    }

    public var description: String {
        switch self {
        case .unauthorized(let provider, let status, let message):
            "\(provider.rawValue) admin API refused the admin key (HTTP \(status): \(message)); check reconcile.\(provider.rawValue).admin_key_file holds an admin key (not a project key)"
        case .http(let provider, let endpoint, let status, let message):
            "\(provider.rawValue) admin API answered HTTP \(status) for \(endpoint): \(message)"
        case .transport(let provider, let endpoint, let message):
            "cannot reach the \(provider.rawValue) admin API at \(endpoint): \(message); check reconcile.\(provider.rawValue).base_url and the network"
        case .malformed(let provider, let endpoint, let detail):
            "\(provider.rawValue) admin API sent an unreadable report from \(endpoint): \(detail)"
        }
    }
}
