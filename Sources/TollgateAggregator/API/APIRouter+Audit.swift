import Foundation
import NIOHTTP1
import TollgateCore

/// `GET /v1/audit`: the changes made through the API, oldest first (any token).
///
/// Parameters: `target` (`budget:ml-daily`, `key:<id>`, `policy:<id>`, or a kind alone, `budget:`),
/// `since`/`until` (the time grammar of `/v1/usage`; default: everything), `limit` (the
/// newest N, default 1,000, at most 100,000).
extension APIRouter {
    static let auditParameters = ["target", "since", "until", "limit"]

    func auditRoute(_ query: [String: String], method: HTTPMethod, path: String, authorization: String?) -> Response {
        guard let audit else { return error(.notFound, "the audit log is not served by this aggregator") }
        if let refused = refusal(method: method, path: path, authorization: authorization) { return refused }
        if let unknown = query.keys.sorted().first(where: { !Self.auditParameters.contains($0) }) {
            return error(.badRequest, "unknown parameter '\(unknown)'; expected \(Self.auditParameters.joined(separator: ", "))")
        }
        let now = clock.unixSeconds
        let since: Int64, until: Int64
        do {
            since = try query["since"].map { try TimeExpression.parse($0, now: now) } ?? 0
            until = try query["until"].map { try TimeExpression.parse($0, now: now) } ?? now + 60
        } catch {
            metrics.apiRejected("bad_time_range").increment()
            return self.error(.badRequest, "since and until: \(error)")
        }
        guard until >= since else {
            metrics.apiRejected("bad_time_range").increment()
            return error(.badRequest, "until (\(until)) is before since (\(since))")
        }
        var limit = 1_000
        if let text = query["limit"] {
            guard let value = Int(text), (1...100_000).contains(value) else {
                return error(.badRequest, "limit '\(text)' is not a number from 1 to 100000")
            }
            limit = value
        }
        let target = query["target"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            return json(.ok, try audit.entries(fromMs: since * 1_000, toMs: until * 1_000, target: target, limit: limit))
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "audit read failed: \(error)")
        }
    }
}
