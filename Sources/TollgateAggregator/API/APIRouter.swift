import Foundation
import NIOHTTP1
import TollgateCore

/// Maps a request to a response; pure apart from the store read, so tests call it directly.
struct APIRouter: Sendable {
    let store: UsageStore
    let metrics: AggregatorMetrics
    /// Nil when budgets are not served (then `/v1/budgets` is 404).
    var budgets: BudgetBoard? = nil
    /// Required on every `/v1/budgets` request when set.
    var token: APIToken? = nil
    /// Where "now" is for a usage query without `until`.
    var clock: ServiceClock = .system
    /// Nil when no provider is configured under `reconcile:` (then `/v1/reconcile` is 404).
    var reconciler: Reconciler? = nil

    struct Response {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    func respond(method: HTTPMethod, uri: String, authorization: String? = nil, body: Data = Data()) -> Response {
        let components = URLComponents(string: uri)
        let path = components?.path ?? uri
        let query = Dictionary((components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        switch (method, path) {
        case (.GET, "/healthz"):
            return Response(status: .ok, contentType: "text/plain", body: "ok\n")
        case (.GET, "/metrics"):
            return Response(status: .ok, contentType: MetricsExposition.contentType, body: metrics.exposition())
        case (.GET, "/v1/usage"):
            return usage(query)
        case (.GET, "/v1/reconcile"):
            return reconcile(query, authorization: authorization)
        case (_, _) where path == "/v1/budgets" || path.hasPrefix("/v1/budgets/"):
            return budgetRoute(method: method, path: path, authorization: authorization, body: body)
        default:
            return error(.notFound, "no such endpoint: \(method) \(path)")
        }
    }

    private func usage(_ query: [String: String]) -> Response {
        let now = clock.unixSeconds
        let since: Int64, until: Int64
        do {
            since = try TimeExpression.parse(query["since"] ?? "0", now: now)
            until = try query["until"].map { try TimeExpression.parse($0, now: now) } ?? now + 60
        } catch {
            return self.error(.badRequest, "since and until: \(error)")
        }
        guard until >= since else { return self.error(.badRequest, "until (\(until)) is before since (\(since))") }
        let dimensions: [UsageDimension]
        do {
            dimensions = try UsageDimension.parseList(query["by"] ?? "key,model")
        } catch {
            return self.error(.badRequest, "\(error)")
        }
        do {
            // Cells are per minute: a window includes every minute it touches.
            let groups = try store.query(fromMinute: floorDiv(since, 60), toMinute: floorDiv(until, 60) + 1, groupBy: dimensions)
            let rows = groups.map { UsageRow($0, by: dimensions) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(status: .ok, contentType: "application/json", body: String(decoding: try encoder.encode(rows), as: UTF8.self))
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "query failed: \(error)")
        }
    }

    func error(_ status: HTTPResponseStatus, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Response(status: status, contentType: "application/json", body: body)
    }

    private func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }
}
