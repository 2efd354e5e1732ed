import Foundation
import NIOHTTP1
import TollgateCore

/// Key endpoints: reading needs a token (read-only or admin), changing the admin token.
///
/// - `GET /v1/keys`: `[KeyView]`, every key seen, unlabelled first, then by spend this month.
/// - `GET /v1/keys/{key_id}`: one `KeyView`.
/// - `PUT /v1/keys/{key_id}`: a `KeyLabelBody` → the `KeyView`; only keys already seen.
/// - `DELETE /v1/keys/{key_id}`: removes the label → the `KeyView`.
/// Changes are in the audit log (`key:<key_id>`) and reach every agent with the quota state.
extension APIRouter {
    func keysRoute(method: HTTPMethod, path: String, authorization: String?, actor: String?, body: Data) -> Response {
        guard let book = keys else { return error(.notFound, "keys are not served by this aggregator") }
        let who: AuditActor
        switch authorize(method: method, path: path, authorization: authorization, actor: actor) {
        case .failure(let refused): return refused.response
        case .success(let actor): who = actor
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)  // v1, keys, id?
        do {
            let sightings = try store.keySightings()
            switch (method, parts.count) {
            case (.GET, 2):
                return json(.ok, try keyViews(sightings, book: book))
            case (.GET, 3):
                guard let view = try keyViews(sightings.filter { $0.keyID == parts[2] }, book: book).first else { return unknownKey(parts[2]) }
                return json(.ok, view)
            case (.PUT, 3), (.DELETE, 3):
                let keyID = parts[2]
                guard sightings.contains(where: { $0.keyID == keyID }) else { return unknownKey(keyID) }
                let label: KeyLabel
                if method == .PUT {
                    do {
                        label = try JSONDecoder().decode(KeyLabelBody.self, from: body).label(keyID: keyID)
                    } catch {
                        metrics.apiRejected("invalid_key_label").increment()
                        return self.error(.badRequest, "key label body: expected a JSON object {\"name\", \"team\", \"project\", \"owner\", \"cost_center\"} of strings, each optional")
                    }
                } else {
                    label = KeyLabel(keyID: keyID)
                }
                let before = try book.set(label)
                if before != (label.isEmpty ? nil : label) {
                    audit?.record(who, label.isEmpty ? "key.unlabel" : "key.label", target: "key:\(keyID)", before: before,
                                  after: label.isEmpty ? nil : label)
                }
                return json(.ok, try keyViews(sightings.filter { $0.keyID == keyID }, book: book)[0])
            default:
                return error(.notFound, "no such endpoint: \(method) \(path)")
            }
        } catch let failure as KeyLabelError {
            metrics.apiRejected("invalid_key_label").increment()
            return error(.badRequest, failure.description)
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "key request failed: \(error)")
        }
    }

    private func unknownKey(_ keyID: String) -> Response {
        metrics.apiRejected("unknown_key").increment()
        return error(.notFound, "key '\(keyID)' has never been seen by this aggregator; `tollgate keys list` (GET /v1/keys) shows the key ids it has seen")
    }

    /// Unlabelled keys first (they are the ones to name), then by spend this month, highest first.
    private func keyViews(_ sightings: [KeySighting], book: KeyLabelBook) throws -> [KeyView] {
        let nowMinute = clock.unixSeconds / 60
        let monthStart = UsageBucket.month.start(ofMinute: nowMinute)
        let month = try store.query(fromMinute: monthStart, toMinute: nowMinute + 1, groupBy: [.key])
        let spend = Dictionary(month.map { ($0.dimensions.keyID, $0.counters) }, uniquingKeysWith: { a, _ in a })
        return sightings
            .map { KeyView(sighting: $0, label: book.label(keyID: $0.keyID), monthStartMinute: monthStart, month: spend[$0.keyID]) }
            .sorted { a, b in
                if a.labelled != b.labelled { return !a.labelled }
                if a.monthCostNanousd != b.monthCostNanousd { return a.monthCostNanousd > b.monthCostNanousd }
                return a.keyID < b.keyID
            }
    }
}
