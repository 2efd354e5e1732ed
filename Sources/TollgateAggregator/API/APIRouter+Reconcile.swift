import Foundation
import NIOHTTP1
import TollgateCore

/// `GET /v1/reconcile?since=TIME&until=TIME&provider=openai|anthropic&tolerance_percent=N`:
/// the aggregator pulls the providers' own reports with the admin keys only it holds, and
/// answers a `ReconcileReport`. Needs the API token, like budget reads: it reveals spend per
/// key. Times use `TimeExpression`; whole UTC days are compared (default: the last 30).
///
/// 200 whenever the comparison ran, even if a provider could not be read (its error is in
/// `providers`); 400 for bad parameters; 404 when no provider is configured.
extension APIRouter {
    func reconcile(_ query: [String: String], authorization: String?) -> Response {
        if let refused = refusal(method: .GET, path: "/v1/reconcile", authorization: authorization) { return refused }
        guard let reconciler else {
            return error(.notFound, "reconciliation is not configured: add reconcile.openai or reconcile.anthropic (admin_key_file) to the aggregator's config")
        }
        let now = clock.unixSeconds
        let since: Int64, until: Int64
        do {
            since = try TimeExpression.parse(query["since"] ?? "30d", now: now)
            until = try query["until"].map { try TimeExpression.parse($0, now: now) } ?? now
        } catch {
            return self.error(.badRequest, "since and until: \(error)")
        }
        guard until > since else { return self.error(.badRequest, "until (\(until)) must be after since (\(since))") }
        guard (until - since) <= Reconciler.maxDays * 86_400 else {
            return self.error(.badRequest, "at most \(Reconciler.maxDays) days per reconciliation; narrow since and until")
        }
        var providers: Set<ReconcileProvider>?
        if let name = query["provider"], !name.isEmpty {
            guard let provider = ReconcileProvider(rawValue: name) else {
                return self.error(.badRequest, "provider '\(name)': expected one of \(ReconcileProvider.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard reconciler.settings.sources.contains(where: { $0.provider == provider }) else {
                return self.error(.badRequest, "provider '\(name)' is not configured under reconcile: in the aggregator's config")
            }
            providers = [provider]
        }
        var tolerance = reconciler.settings.tolerance
        if let text = query["tolerance_percent"] {
            guard let basisPoints = ReconcileTolerance.basisPoints(percent: text) else {
                return self.error(.badRequest, "tolerance_percent '\(text)': expected a percentage from 0 to 100 with at most two decimals")
            }
            tolerance.basisPoints = basisPoints
        }
        do {
            let report = try reconciler.run(since: since, until: until, providers: providers, tolerance: tolerance)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(status: .ok, contentType: "application/json", body: String(decoding: try encoder.encode(report), as: UTF8.self))
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "reconciliation failed reading Tollgate's usage: \(error)")
        }
    }
}
