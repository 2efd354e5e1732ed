/// Ties a provider's API key ids to Tollgate's key ids, for one provider and one window.
///
/// Providers report usage per *their* key id (`key_…`, `apikey_…`), never the key; Tollgate
/// knows only a keyed hash of the key and a hint (`sk-…wxyz`). Nothing links the two except
/// the operator's map, `reconcile.<provider>.keys`, whose values are either
/// - Tollgate's key id (as `tollgate usage --by key --format json` prints it), or a prefix of
///   it of at least 8 characters naming exactly one key seen in the window: `mapped`; or
/// - a hint's last four characters (`…wxyz`, `sk-…wxyz` or `wxyz`), accepted only when
///   exactly one of Tollgate's keys seen for this provider in the window ends that way:
///   `hint` (flagged, since two keys can share a tail).
/// Usage under a provider key id that is not mapped, and Tollgate usage under a key no map
/// entry resolved to, are compared together per day and model (`unmapped`).
public struct KeyMatcher: Sendable {
    public struct Resolution: Equatable, Sendable {
        public var keyID: String
        public var match: KeyMatch
    }

    private var resolved: [String: Resolution] = [:]
    /// Tollgate key ids some provider key resolved to, and how: they get rows of their own.
    private(set) var mappedKeyIDs: [String: KeyMatch] = [:]
    /// Map entries that resolved to no key or to several, for the report.
    public private(set) var unresolved: [String] = []

    /// `map`: provider key id → Tollgate key id, id prefix or hint tail; `seen`: Tollgate's
    /// key ids (with their hints) for this provider in the window.
    public init(map: [String: String], seen: [String: String]) {
        for (providerKeyID, target) in map.sorted(by: { $0.key < $1.key }) {
            let value = target.trimmingCharacters(in: .whitespaces)
            if let tail = Self.hintTail(value) {
                let candidates = seen.filter { $0.value.hasSuffix(tail) }.map(\.key)
                if candidates.count == 1 {
                    resolved[providerKeyID] = Resolution(keyID: candidates[0], match: .hint)
                } else {
                    unresolved.append("\(providerKeyID) → …\(tail): \(candidates.isEmpty ? "no" : "\(candidates.count)") Tollgate keys end that way")
                }
                continue
            }
            if seen[value] != nil || value.count == 32 {
                resolved[providerKeyID] = Resolution(keyID: value, match: .mapped)
                continue
            }
            let candidates = value.count >= 8 ? seen.keys.filter { $0.hasPrefix(value) } : []
            if candidates.count == 1 {
                resolved[providerKeyID] = Resolution(keyID: candidates[0], match: .mapped)
            } else {
                unresolved.append("\(providerKeyID) → \(value): \(candidates.isEmpty ? "no" : "\(candidates.count)") Tollgate keys seen in the window have that id")
            }
        }
        for resolution in resolved.values { mappedKeyIDs[resolution.keyID] = resolution.match }
    }

    /// The Tollgate key a provider key id is tied to; nil when it is not.
    public func resolve(providerKeyID: String?) -> Resolution? {
        providerKeyID.flatMap { resolved[$0] }
    }

    /// The row a Tollgate key's usage belongs in: its own when mapped, else the unmapped one.
    func bucket(tollgateKeyID: String) -> String {
        mappedKeyIDs[tollgateKeyID] == nil ? "" : tollgateKeyID
    }

    /// How a Tollgate key was tied to a provider key; nil when it was not.
    func match(tollgateKeyID: String) -> KeyMatch? {
        mappedKeyIDs[tollgateKeyID]
    }

    /// `…wxyz`, `sk-…wxyz`, `sk-...wxyz` or a bare four characters that are not a key id.
    static func hintTail(_ value: String) -> String? {
        for marker in ["…", "..."] {
            if let range = value.range(of: marker, options: .backwards) {
                let tail = String(value[range.upperBound...])
                return tail.count == 4 ? tail : nil
            }
        }
        return value.count == 4 ? value : nil
    }
}

import Foundation
