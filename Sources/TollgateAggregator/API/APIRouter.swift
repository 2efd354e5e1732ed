import Foundation
import Logging
import NIOHTTP1
import TollgateCore
import TollgateProviders

/// Maps a request to a response; pure apart from the store read, so tests call it directly.
struct APIRouter: Sendable {
    let store: UsageStore
    let metrics: AggregatorMetrics
    /// Nil when budgets are not served (then `/v1/budgets` is 404).
    var budgets: BudgetBoard? = nil
    /// Required on every `/v1/budgets` and `/v1/agents` request (refused when nil).
    var token: APIToken? = nil
    /// Nil when the fleet is not served (then `/v1/agents` is 404).
    var fleet: FleetRegistry? = nil
    /// Where "now" is for a usage query without `until`.
    var clock: ServiceClock = .system
    /// Nil when no provider is configured under `reconcile:` (then `/v1/reconcile` is 404).
    var reconciler: Reconciler?
    /// Resolves a budget's `model=` to the canonical model (and refuses unknown ones).
    var models: PriceCatalog
    /// Counts and logs the requests the token refuses.
    let unauthorized: UnauthorizedRequests
    /// Nil when anomalies are not served (then `/v1/anomalies` is 404).
    var anomalies: AnomalyMonitor? = nil

    init(store: UsageStore, metrics: AggregatorMetrics, budgets: BudgetBoard? = nil, token: APIToken? = nil,
         fleet: FleetRegistry? = nil, clock: ServiceClock = .system, models: PriceCatalog = DefaultPriceCatalog.load(),
         reconciler: Reconciler? = nil, logger: Logger = Logger(label: "tollgate.api")) {
        self.store = store
        self.metrics = metrics
        self.budgets = budgets
        self.token = token
        self.fleet = fleet
        self.clock = clock
        self.models = models
        self.reconciler = reconciler
        unauthorized = UnauthorizedRequests(counters: metrics.apiUnauthorized, logger: logger, clock: clock)
    }

    struct Response {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    func respond(method: HTTPMethod, uri: String, authorization: String? = nil, body: Data = Data()) -> Response {
        let components = URLComponents(string: uri)
        let path = components?.path ?? uri
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] {
            guard query.updateValue(item.value ?? "", forKey: item.name) == nil else {
                metrics.apiRejected("repeated_parameter").increment()
                return error(.badRequest, "parameter '\(item.name)' is given twice; give it once")
            }
        }
        switch (method, path) {
        case (.GET, "/healthz"):
            return Response(status: .ok, contentType: "text/plain", body: "ok\n")
        case (.GET, "/metrics"):
            fleet?.updateMetrics()
            return Response(status: .ok, contentType: MetricsExposition.contentType, body: metrics.exposition() + budgetGauges())
        case (.GET, "/v1/usage"):
            return usage(query)
        case (.GET, "/v1/agents"):
            return agentsRoute(method: method, path: path, authorization: authorization)
        case (.GET, "/v1/models"):
            let views = models.modelNames.map { ModelView(model: $0.model, provider: $0.provider, names: $0.names) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(views) else { return error(.internalServerError, "cannot encode the models") }
            return Response(status: .ok, contentType: "application/json", body: String(decoding: data, as: UTF8.self))
        case (.GET, "/v1/anomalies"):
            return anomaliesRoute(authorization: authorization)
        case (.GET, "/v1/budget-suggestions"):
            return suggestionsRoute(query, authorization: authorization)
        case (.GET, "/v1/reconcile"):
            return reconcile(query, authorization: authorization)
        case (.GET, "/v1/report"):
            return report(query, authorization: authorization)
        case (.GET, "/v1/export/focus"):
            return focusExport(query, authorization: authorization)
        case (_, _) where path == "/v1/budgets" || path.hasPrefix("/v1/budgets/"):
            return budgetRoute(method: method, path: path, authorization: authorization, body: body)
        default:
            return error(.notFound, "no such endpoint: \(method) \(path)")
        }
    }

    /// Nil when `authorization` carries the token; otherwise the 401 to send, counted and
    /// logged. Every endpoint that reveals spend per owner or changes state asks this.
    func refusal(method: HTTPMethod, path: String, authorization: String?) -> Response? {
        // Without a token nothing is accepted: a misconfigured aggregator fails closed.
        if let token, token.accepts(authorization: authorization) { return nil }
        let reason: UnauthorizedRequests.Reason = authorization == nil ? .missing : .wrong
        unauthorized.record(reason, method: method, path: path)
        return error(.unauthorized, reason == .missing
            ? "missing bearer token: send Authorization: Bearer <token> (the token is in the aggregator's api_token_file, by default <data_dir>/api-token)"
            : "wrong bearer token: use the one in the aggregator's api_token_file (by default <data_dir>/api-token)")
    }

    func error(_ status: HTTPResponseStatus, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Response(status: status, contentType: "application/json", body: body)
    }
}
