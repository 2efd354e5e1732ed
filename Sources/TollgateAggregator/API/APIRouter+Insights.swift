import Foundation
import NIOHTTP1
import TollgateCore

/// Early warning and planning endpoints; like budgets, both need the bearer token (they
/// reveal spend per team and key).
///
/// - `GET /v1/anomalies`: an `AnomalyReport`, evaluated now: every team, key, use case and
///   env whose spend today (UTC) is at or above `anomalies.ratio` × its 7-day normal.
/// - `GET /v1/budget-suggestions?by=team&window=day&baseline=60d&headroom=130&unit=usd`:
///   a `BudgetSuggestionReport`, one proposal per value of `by`.
extension APIRouter {
    func anomaliesRoute(authorization: String?) -> Response {
        if let refused = refusal(method: .GET, path: "/v1/anomalies", authorization: authorization) { return refused }
        guard let anomalies else { return error(.notFound, "anomalies are not served by this aggregator") }
        do {
            return json(.ok, try anomalies.report())
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "anomaly evaluation failed: \(error)")
        }
    }

    func suggestionsRoute(_ query: [String: String], authorization: String?) -> Response {
        if let refused = refusal(method: .GET, path: "/v1/budget-suggestions", authorization: authorization) { return refused }
        let suggester: BudgetSuggester
        do {
            suggester = try Self.suggester(query)
        } catch let failure as SuggestionRequestError {
            metrics.apiRejected("bad_suggestion").increment()
            return error(.badRequest, failure.message)
        } catch {
            metrics.apiRejected("bad_suggestion").increment()
            return self.error(.badRequest, "\(error)")
        }
        do {
            return json(.ok, try suggester.read(store, now: clock.unixSeconds))
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "budget suggestion failed: \(error)")
        }
    }

    struct SuggestionRequestError: Error { var message: String }

    static let suggestionParameters = ["by", "window", "baseline", "headroom", "unit"]

    /// Reads and checks the parameters, each error naming what is expected.
    static func suggester(_ query: [String: String]) throws -> BudgetSuggester {
        for name in query.keys.sorted() where !suggestionParameters.contains(name) {
            throw SuggestionRequestError(message: "unknown parameter '\(name)'; expected \(suggestionParameters.joined(separator: ", "))")
        }
        let dimensions = try UsageDimension.parseList(query["by"] ?? "team")
        guard dimensions.count == 1, let dimension = dimensions.first else {
            throw SuggestionRequestError(message: "by '\(query["by"] ?? "")': expected one dimension, e.g. team")
        }
        let windowText = query["window"] ?? "day"
        guard let period = BudgetPeriod(rawValue: windowText), BudgetSuggester.buckets[period] != nil else {
            throw SuggestionRequestError(message: "window '\(windowText)': expected hour, day, week or month")
        }
        let baselineText = query["baseline"] ?? "60d"
        guard let days = baselineDays(baselineText) else {
            throw SuggestionRequestError(message: "baseline '\(baselineText)': expected a number of days or weeks from 1d to 400d, e.g. 60d or 8w")
        }
        let headroomText = query["headroom"] ?? "130"
        guard let headroom = Int(headroomText), (100...1_000).contains(headroom) else {
            throw SuggestionRequestError(message: "headroom '\(headroomText)': expected a percentage of the baseline from 100 to 1000, e.g. 130")
        }
        let unitText = query["unit"] ?? "usd"
        guard let unit = BudgetUnit(rawValue: unitText) else {
            throw SuggestionRequestError(message: "unit '\(unitText)': expected usd, tokens or requests")
        }
        return BudgetSuggester(dimension: dimension, period: period, unit: unit, baselineDays: days, headroomPercent: headroom)
    }

    /// `60d`, `8w` → days; nil when malformed or outside 1…400 days.
    static func baselineDays(_ text: String) -> Int? {
        guard let last = text.last, let scale = ["d": 1, "w": 7][String(last)], let count = Int(text.dropLast()) else { return nil }
        let (days, overflow) = count.multipliedReportingOverflow(by: scale)
        return !overflow && (1...400).contains(days) ? days : nil
    }

    /// Every budget's gauges for `/metrics`; none when budgets are not served or unreadable.
    func budgetGauges() -> String {
        guard let budgets else { return "" }
        do {
            return BudgetGauges.exposition(try budgets.statuses())
        } catch {
            metrics.apiErrors.increment()
            return ""
        }
    }
}
