import TollgateHTTP1
import Foundation
import TollgateCore
import TollgateProviders

/// Finds the caller's provider API key, so it can be hashed into a `key_id`; the key itself
/// goes no further than the upstream request.
///
/// OpenAI: `Authorization: Bearer`; Azure: `api-key`; Anthropic: `x-api-key` or Bearer;
/// Gemini: `x-goog-api-key` or the `key` query parameter.
enum APIKeyExtractor {
    /// Fields that hold the key as it is, in order of precedence (Bearer comes after them).
    private static let keyFields = ["x-api-key", "x-goog-api-key", "api-key"]

    static func apiKey(in headers: HTTPRequestHeadBytes, provider: Provider, query: String?) -> String? {
        // In order of precedence, each looked up only if the ones before it gave nothing.
        for name in keyFields {
            if let key = usable(headers.first(name: name)) { return key }
        }
        if let key = usable(bearer(headers.first(name: "authorization"))) { return key }
        return provider == .gemini ? usable(queryKey(query)) : nil
    }

    private static func usable(_ candidate: String?) -> String? {
        guard let key = candidate.map({ String($0.trimmingOptionalWhitespace()) }), !key.isEmpty else { return nil }
        return key
    }

    private static func bearer(_ authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    private static func queryKey(_ query: String?) -> String? {
        guard let query else { return nil }
        return URLComponents(string: "?" + query)?.queryItems?.first { $0.name == "key" }?.value
    }
}
