import Foundation

/// The agents admitted to a CURVE channel: each public key under a name. The name is the
/// connection's ZAP User-Id, which the aggregator reads with `receiveWithMetadata()`, so name
/// keys after the agent (host or role).
public struct CurveAllowlist: Sendable, Equatable {
    /// Name → public key (Z85), as configured.
    public let publicKeys: [String: String]
    /// ZAP hands over the client's key as 32 raw bytes; matching on bytes makes the comparison
    /// independent of how the key was written.
    private let namesByKey: [Data: String]

    public static let empty = CurveAllowlist(publicKeys: [:], namesByKey: [:])

    /// Validates every key; throws `CurveKeyError` naming the bad entry.
    public init(_ publicKeys: [String: String]) throws {
        var namesByKey: [Data: String] = [:]
        for (name, key) in publicKeys.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty else { throw CurveKeyError.emptyAllowlistName }
            let raw = try CurveKey.decode(key, label: "the allowlist key of \"\(name)\"")
            if let other = namesByKey[raw] { throw CurveKeyError.duplicateAllowlistKey(names: [other, name]) }
            namesByKey[raw] = name
        }
        self.init(publicKeys: publicKeys, namesByKey: namesByKey)
    }

    private init(publicKeys: [String: String], namesByKey: [Data: String]) {
        self.publicKeys = publicKeys
        self.namesByKey = namesByKey
    }

    public var count: Int { publicKeys.count }

    /// The name of a raw 32-byte public key, nil when it is not allowlisted.
    func name(ofKey rawKey: Data) -> String? { namesByKey[rawKey] }
}
