import Foundation

/// Where and how to read one provider's admin reports: from `reconcile.<provider>` in the
/// aggregator's config.
public struct AdminSource: Sendable {
    public var provider: ReconcileProvider
    /// Without a trailing slash and without `/v1`: `https://api.openai.com`.
    public var baseURL: URL
    public var adminKey: AdminKey
    /// Provider key id → Tollgate key id, id prefix or hint tail (see `KeyMatcher`).
    public var keyMap: [String: String]

    public init(provider: ReconcileProvider, baseURL: URL, adminKey: AdminKey, keyMap: [String: String] = [:]) {
        self.provider = provider
        self.baseURL = baseURL
        self.adminKey = adminKey
        self.keyMap = keyMap
    }

    public static func defaultBaseURL(_ provider: ReconcileProvider) -> URL {
        switch provider {
        case .openai: URL(string: "https://api.openai.com")!
        case .anthropic: URL(string: "https://api.anthropic.com")!
        }
    }

    /// The authentication headers each provider's admin API documents.
    var headers: [(String, String)] {
        switch provider {
        case .openai: [("Authorization", "Bearer \(adminKey.value)")]
        case .anthropic: [("x-api-key", adminKey.value), ("anthropic-version", "2023-06-01")]
        }
    }

    /// `path` with `query` on the base URL; arrays go as `name[]=value` (brackets
    /// percent-encoded, as URLs require), the form both providers' SDKs send.
    func url(_ path: String, _ query: [(String, String)]) -> URL {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~:"))
        components.percentEncodedQuery = query.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
        return components.url!
    }
}

/// An admin API key: printed, logged or encoded, it shows as `<redacted>`.
public struct AdminKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
