import Foundation
import NIOHTTP1
import TollgateCore

/// Finance endpoints. Both reveal spend per owner, so both need the API token, like budget
/// reads.
///
/// - `GET /v1/report?month=YYYY-MM&by=DIMENSION`: a `ShowbackReport` (JSON) for a UTC
///   month, one row per value of `by` (default `team`). 400 for a month that does not parse
///   or an unknown dimension; a month with no usage is a report of zeros.
/// - `GET /v1/export/focus?from=TIME&to=TIME`: FOCUS 1.3 CSV (`text/csv`), one row per
///   UTC day, key, model, tag set and token class. Times are UTC dates (`2026-11-01`) or
///   what `TimeExpression` reads; `to` before `from` is a 400, an empty range the header alone.
extension APIRouter {
    static let reportParameters = ["month", "by"]
    static let exportParameters = ["from", "to"]

    func report(_ query: [String: String], authorization: String?) -> Response {
        if let refused = refusal(method: .GET, path: "/v1/report", authorization: authorization) { return refused }
        if let unknown = query.keys.sorted().first(where: { !Self.reportParameters.contains($0) }) {
            metrics.apiRejected("bad_parameter").increment()
            return error(.badRequest, "unknown parameter '\(unknown)'; expected \(Self.reportParameters.joined(separator: ", "))")
        }
        guard let text = query["month"] else {
            metrics.apiRejected("bad_month").increment()
            return error(.badRequest, "\(FinanceError.missing("month")); expected YYYY-MM, e.g. 2026-11")
        }
        let month: ReportMonth
        do {
            month = try ReportMonth(parsing: text)
        } catch {
            metrics.apiRejected("bad_month").increment()
            return self.error(.badRequest, "\(error)")
        }
        let by: UsageDimension
        do {
            let dimensions = try UsageDimension.parseList(query["by"] ?? "team")
            guard dimensions.count == 1 else {
                metrics.apiRejected("unknown_dimension").increment()
                return error(.badRequest, "by '\(query["by"] ?? "")': a report is by one dimension, e.g. team or project")
            }
            by = dimensions[0]
        } catch {
            metrics.apiRejected("unknown_dimension").increment()
            return self.error(.badRequest, "by: \(error)")
        }
        do {
            let report = try ShowbackBuilder(by: by, month: month).build(store: store, budgets: store.budgets().map(\.budget))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(status: .ok, contentType: "application/json", body: String(decoding: try encoder.encode(report), as: UTF8.self))
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "report failed: \(error)")
        }
    }

    func focusExport(_ query: [String: String], authorization: String?) -> Response {
        if let refused = refusal(method: .GET, path: "/v1/export/focus", authorization: authorization) { return refused }
        if let unknown = query.keys.sorted().first(where: { !Self.exportParameters.contains($0) }) {
            metrics.apiRejected("bad_parameter").increment()
            return error(.badRequest, "unknown parameter '\(unknown)'; expected \(Self.exportParameters.joined(separator: ", "))")
        }
        let range: ExportRange
        do {
            guard let from = query["from"] else { throw FinanceError.missing("from") }
            guard let to = query["to"] else { throw FinanceError.missing("to") }
            range = try ExportRange(from: from, to: to, now: clock.unixSeconds)
        } catch {
            metrics.apiRejected("bad_range").increment()
            return self.error(.badRequest, "\(error)")
        }
        do {
            let export = try FocusExport.csv(store: store, range: range, catalog: models)
            return Response(status: .ok, contentType: "text/csv; charset=utf-8", body: export.text)
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "export failed: \(error)")
        }
    }
}
