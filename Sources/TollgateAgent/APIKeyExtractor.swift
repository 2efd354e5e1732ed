import Foundation
import NIOHTTP1

/// Finds the caller's provider API key in request headers (OpenAI: `Authorization: Bearer`;
/// Azure: `api-key`), so it can be hashed into a `key_id`. The key itself goes no further.
enum APIKeyExtractor {
    static func apiKey(in headers: HTTPHeaders) -> String? {
        if let authorization = headers.first(name: "authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let key = parts[1].trimmingCharacters(in: .whitespaces)
                return key.isEmpty ? nil : key
            }
        }
        return headers.first(name: "api-key")
    }
}
