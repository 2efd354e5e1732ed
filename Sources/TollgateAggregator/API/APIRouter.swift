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
    /// The admin token: accepted on every endpoint that needs one, and the only one that
    /// changes anything (refused when nil).
    var token: APIToken? = nil
    /// The read-only token: accepted for GET on every endpoint that needs a token.
    var readToken: APIToken? = nil
    /// Nil when key labels are not served (then `/v1/keys` is 404).
    var keys: KeyLabelBook? = nil
    /// Where changes are recorded; nil records nothing (then `/v1/audit` is 404).
    var audit: AuditLog? = nil
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
    /// Nil when policies are not served (then `/v1/policies` is 404).
    var policies: PolicyBook? = nil

    init(store: UsageStore, metrics: AggregatorMetrics, budgets: BudgetBoard? = nil, token: APIToken? = nil,
         fleet: FleetRegistry? = nil, clock: ServiceClock = .system, models: PriceCatalog = DefaultPriceCatalog.load(),
         reconciler: Reconciler? = nil, readToken: APIToken? = nil, keys: KeyLabelBook? = nil, audit: AuditLog? = nil,
         logger: Logger = Logger(label: "tollgate.api")) {
        self.readToken = readToken
        self.keys = keys
        self.audit = audit
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

    /// `actor`: the `X-Tollgate-Actor` header, who the audit log says made a change.
    func respond(method: HTTPMethod, uri: String, authorization: String? = nil, actor: String? = nil, body: Data = Data()) -> Response {
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
            return Response(status: .ok, contentType: MetricsExposition.contentType, body: metrics.exposition() + budgetGauges() + policyGauges())
        case (.GET, "/v1/usage"):
            // Spend per key and team is no more public than budgets: a token, read-only or admin.
            if let refused = refusal(method: method, path: path, authorization: authorization) { return refused }
            return usage(query)
        case (.GET, "/v1/audit"):
            return auditRoute(query, method: method, path: path, authorization: authorization)
        case (_, _) where path == "/v1/keys" || path.hasPrefix("/v1/keys/"):
            return keysRoute(method: method, path: path, authorization: authorization, actor: actor, body: body)
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
        case (_, _) where path == "/v1/policies" || path.hasPrefix("/v1/policies/"):
            return policiesRoute(method: method, path: path, authorization: authorization, actor: actor, body: body)
        case (_, _) where path == "/v1/budgets" || path.hasPrefix("/v1/budgets/"):
            return budgetRoute(method: method, path: path, authorization: authorization, actor: actor, body: body)
        default:
            return error(.notFound, "no such endpoint: \(method) \(path)")
        }
    }

    /// Nil when `authorization` carries a token allowed for `method` (the read-only token
    /// for GET, the admin token for anything); otherwise the 401 or 403 to send, counted and
    /// logged. Every endpoint that reveals spend per owner or changes state asks this.
    func refusal(method: HTTPMethod, path: String, authorization: String?) -> Response? {
        switch authorize(method: method, path: path, authorization: authorization, actor: nil) {
        case .success: nil
        case .failure(let refused): refused.response
        }
    }

    struct Refused: Error { var response: Response }

    /// Who is acting, for the audit log, if the token allows `method`; the refusal otherwise.
    func authorize(method: HTTPMethod, path: String, authorization: String?, actor: String?) -> Result<AuditActor, Refused> {
        // Without a token nothing is accepted: a misconfigured aggregator fails closed.
        if let token, token.accepts(authorization: authorization) { return .success(AuditActor(token: .admin, name: actor)) }
        if let readToken, readToken.accepts(authorization: authorization) {
            if method == .GET || method == .HEAD { return .success(AuditActor(token: .read, name: actor)) }
            unauthorized.record(.readOnly, method: method, path: path)
            return .failure(Refused(response: error(.forbidden,
                "this is the read-only token (api_read_token_file); \(method) \(path) changes state and needs the admin token "
                    + "(the aggregator's api_token_file, by default <data_dir>/api-token)")))
        }
        let reason: UnauthorizedRequests.Reason = authorization == nil ? .missing : .wrong
        unauthorized.record(reason, method: method, path: path)
        let needed = method == .GET || method == .HEAD
            ? "the read-only token (api_read_token_file, by default <data_dir>/api-read-token) or the admin token (api_token_file, by default <data_dir>/api-token)"
            : "the admin token (the aggregator's api_token_file, by default <data_dir>/api-token)"
        return .failure(Refused(response: error(.unauthorized, reason == .missing
            ? "missing bearer token: send Authorization: Bearer <token>, with \(needed)"
            : "wrong bearer token: \(method) \(path) needs \(needed)")))
    }

    func error(_ status: HTTPResponseStatus, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Response(status: status, contentType: "application/json", body: body)
    }
}
