import Foundation
import TollgateCore

/// `reconcile:` in the aggregator's config: which providers' admin reports to pull, with
/// what key, from where, how keys map, and the tolerance.
///
/// ```yaml
/// reconcile:
///   tolerance_percent: 1        # per token class and per cost
///   tolerance_usd: 0.01         # absolute slack on costs
///   openai:
///     admin_key_file: /etc/tollgate/openai-admin-key     # mode 0600
///     base_url: https://api.openai.com                   # default
///     keys: { key_abc123: 9cd05ce2, key_def456: "…wxyz" }
///   anthropic:
///     admin_key_file: /etc/tollgate/anthropic-admin-key
/// ```
public struct ReconcileSettings: Sendable {
    public var sources: [AdminSource] = []
    public var tolerance = ReconcileTolerance.default

    public init(sources: [AdminSource] = [], tolerance: ReconcileTolerance = .default) {
        self.sources = sources
        self.tolerance = tolerance
    }

    init(_ node: ConfigNode) throws {
        try node.rejectUnknownKeys(allowed: ["openai", "anthropic", "tolerance_percent", "tolerance_usd"])
        if let text = try node.optionalString("tolerance_percent") {
            guard let basisPoints = ReconcileTolerance.basisPoints(percent: text) else {
                throw ConfigError.invalid(key: node.keyPath("tolerance_percent"), value: text, expected: "a percentage from 0 to 100 with at most two decimals, e.g. 1 or 0.5")
            }
            tolerance.basisPoints = basisPoints
        }
        if let text = try node.optionalString("tolerance_usd") {
            guard let slack = try? parseUSDToNanodollars(text) else {
                throw ConfigError.invalid(key: node.keyPath("tolerance_usd"), value: text, expected: "a USD amount such as 0.01")
            }
            tolerance.costSlack = slack
        }
        for provider in ReconcileProvider.allCases {
            guard let section = try node.section(provider.rawValue) else { continue }
            try section.rejectUnknownKeys(allowed: ["admin_key_file", "base_url", "keys"])
            let file = try section.requiredString("admin_key_file", expected: "a file holding the \(provider.rawValue) admin API key, mode 0600")
            let key = try Self.readAdminKey(file, keyPath: section.keyPath("admin_key_file"))
            var baseURL = AdminSource.defaultBaseURL(provider)
            if let text = try section.optionalString("base_url") {
                guard let url = URL(string: text.hasSuffix("/") ? String(text.dropLast()) : text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                    throw ConfigError.invalid(key: section.keyPath("base_url"), value: text, expected: "an http(s) URL without /v1, e.g. \(AdminSource.defaultBaseURL(provider).absoluteString)")
                }
                baseURL = url
            }
            var keyMap: [String: String] = [:]
            if let keys = try section.section("keys") {
                for name in keys.keys {
                    keyMap[name] = try keys.requiredString(name, expected: "Tollgate's key id (or 8+ characters of it), or a hint's last four characters such as …wxyz")
                }
            }
            sources.append(AdminSource(provider: provider, baseURL: baseURL, adminKey: key, keyMap: keyMap))
        }
    }

    /// Reads an admin key, refusing a file others can read: an admin key reads the whole
    /// organisation's usage and, at OpenAI, can create keys.
    static func readAdminKey(_ path: String, keyPath: String) throws -> AdminKey {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ConfigError.invalid(key: keyPath, value: path, expected: "a readable file holding the admin API key")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw ConfigError.invalid(key: keyPath, value: path, expected: "a file only its owner can read (chmod 600 \(path)): it holds an admin key")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError.invalid(key: keyPath, value: path, expected: "a readable UTF-8 file holding the admin API key")
        }
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty, !key.contains(where: \.isWhitespace) else {
            throw ConfigError.invalid(key: keyPath, value: path, expected: "a file holding exactly one admin API key")
        }
        return AdminKey(key)
    }
}
