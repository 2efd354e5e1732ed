import NIOConcurrencyHelpers
import TollgateCore

/// Remembers the `key_id` and hint of API keys seen recently: a fleet's traffic comes from
/// a handful of keys, and an HMAC per request is a measurable part of the request path.
///
/// The keys live only in this process's memory, where each request's key already is; the
/// cache is bounded and simply starts over when full.
final class CallerKeyCache: Sendable {
    struct Identity: Sendable {
        var keyID: String
        var hint: String
    }

    static let defaultCapacity = 4096

    private let identifier: KeyIdentifier
    private let capacity: Int
    private struct Credential: Hashable {
        var provider: String
        var apiKey: String
    }
    private let known = NIOLockedValueBox([Credential: Identity]())

    init(identifier: KeyIdentifier, capacity: Int = CallerKeyCache.defaultCapacity) {
        self.identifier = identifier
        self.capacity = capacity
    }

    func identity(of apiKey: String, provider: String) -> Identity {
        let credential = Credential(provider: provider, apiKey: apiKey)
        if let cached = known.withLockedValue({ $0[credential] }) { return cached }
        let identity = Identity(keyID: identifier.keyID(for: apiKey), hint: KeyIdentifier.hint(for: apiKey, provider: provider))
        known.withLockedValue { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known[credential] = identity
        }
        return identity
    }
}
