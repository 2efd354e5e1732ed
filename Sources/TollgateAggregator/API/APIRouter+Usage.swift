import Foundation
import NIOHTTP1
import TollgateCore

/// `GET /v1/usage?since=TIME&until=TIME&by=DIMS&every=STEP&top=N&DIMENSION=VALUE…`: usage
/// rows grouped by `by`, one per bucket × group with `every`, costliest first (per bucket),
/// the N costliest plus an `other_groups` row with `top`. See `UsageQuery` for the window,
/// `UsageTiers` for `tier` (in `by`, or as a filter).
extension APIRouter {
    func usage(_ parameters: [String: String]) -> Response {
        let query: UsageQuery
        let tiers: UsageTiers?
        do {
            var parameters = parameters
            tiers = try UsageTiers.extract(from: &parameters)
            query = try UsageQuery(parameters, now: clock.unixSeconds)
        } catch {
            metrics.apiRejected(error.reason.rawValue).increment()
            return self.error(.badRequest, error.description)
        }
        do {
            let groups = try store.query(fromMinute: query.fromMinute, toMinute: query.toMinute, groupBy: query.groupBy,
                                         matching: query.filters, every: query.every)
            var rows = groups.map { UsageRow($0, by: query.groupBy) }
            if let tiers { rows = tiers.apply(rows, catalog: models) }
            if query.groupBy.contains(.key), let keys { rows = rows.map { $0.named(by: keys) } }
            rows = UsageRanking.rank(rows, top: query.top)
            return Response(status: .ok, contentType: "application/json", body: UsageRowsJSON.encode(rows))
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "query failed: \(error)")
        }
    }
}
