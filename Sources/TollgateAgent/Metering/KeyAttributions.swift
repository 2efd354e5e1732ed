import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateHTTP1
import TollgateWire

/// Key id → the team and project the aggregator's key labels give it (`tollgate keys
/// label`), pushed with the quota state: a snapshot replaces them, a delta changes some.
///
/// A request's own `X-Tollgate-Team`/`-Project` header wins; otherwise the key's label
/// wins over the host's default (a key is one workflow; a host runs many). Filled before
/// the quota gate and before metering, so budgets scoped `team=…` count the request and
/// its shipped cells carry the team.
final class KeyAttributions: Sendable {
    private let labels = NIOLockedValueBox<[String: KeyLabel]>([:])

    var count: Int { labels.withLockedValue { $0.count } }

    /// Applies what an applied quota update says about key labels.
    func apply(_ update: QuotaUpdateMessage) {
        guard update.isSnapshot || !update.keyLabels.isEmpty || !update.removedKeyLabelIDs.isEmpty else { return }
        labels.withLockedValue { labels in
            if update.isSnapshot { labels = [:] }
            for label in update.keyLabels { labels[label.keyID] = label }
            for keyID in update.removedKeyLabelIDs { labels[keyID] = nil }
        }
    }

    /// `attribution` with the key's team and project where the request's headers named none.
    func fill(_ attribution: inout Attribution, keyID: String, headers: HTTPRequestHeadBytes) {
        guard !keyID.isEmpty, let label = labels.withLockedValue({ $0[keyID] }) else { return }
        if !label.team.isEmpty, !Self.names("x-tollgate-team", in: headers) { attribution.team = label.team }
        if !label.project.isEmpty, !Self.names("x-tollgate-project", in: headers) { attribution.project = label.project }
    }

    private static func names(_ header: String, in headers: HTTPRequestHeadBytes) -> Bool {
        guard let value = headers.first(name: header) else { return false }
        return !value.trimmingCharacters(in: .whitespaces).isEmpty
    }
}
