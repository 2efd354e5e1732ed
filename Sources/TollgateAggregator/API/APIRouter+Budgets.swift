import Foundation
import NIOHTTP1
import TollgateCore

/// Budget endpoints. Every one, reads included, needs `Authorization: Bearer <token>`:
/// budgets name owners and reveal spend per team. Reads take the read-only token or the
/// admin one; changes only the admin token, and each is recorded in the audit log
/// (`budget:<id>`: `budget.set`, `budget.remove`, `budget.exempt`).
///
/// - `GET /v1/budgets`: `[{budget, status, would_block}]`, every budget in its current window;
///   `would_block`: requests it would have refused there, over the fleet (observe mode).
/// - `GET /v1/budgets/{id}`: `{budget, status, exemptions, would_block}`.
/// - `PUT /v1/budgets/{id}`: a `Budget` as JSON (`id` may be left out) → `{budget, status, change}`.
/// - `DELETE /v1/budgets/{id}`: `{removed}`; exemptions stay as an audit trail. 409 while a
///   downgrade policy names the budget (the policy would have nothing to measure).
/// - `POST /v1/budgets/{id}/exemptions`: `{limit, until, reason, author, from?}` → `{exemption, status}`.
extension APIRouter {
    func budgetRoute(method: HTTPMethod, path: String, authorization: String?, actor: String? = nil, body: Data) -> Response {
        guard let board = budgets else { return error(.notFound, "budgets are not served by this aggregator") }
        let who: AuditActor
        switch authorize(method: method, path: path, authorization: authorization, actor: actor) {
        case .failure(let refused): return refused.response
        case .success(let actor): who = actor
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)  // v1, budgets, id?, exemptions?
        do {
            switch (method, parts.count) {
            case (.GET, 2):
                let statuses = try board.statuses()
                let wouldBlock = wouldBlock(statuses)
                let views = statuses.compactMap { status -> BudgetView? in
                    guard let stored = store.budget(id: status.budgetID) else { return nil }
                    return BudgetView(budget: stored.budget, status: status, wouldBlock: wouldBlock(status.budgetID))
                }
                return json(.ok, views)
            case (.GET, 3):
                let id = parts[2]
                guard let stored = store.budget(id: id), let status = try board.status(budgetID: id) else {
                    return error(.notFound, "no budget '\(id)'")
                }
                return json(.ok, BudgetView(budget: stored.budget, status: status, exemptions: stored.exemptions,
                                            wouldBlock: wouldBlock([status])(id)))
            case (.PUT, 3):
                var budget = try decodeBudget(body, id: parts[2])
                // Stored and pushed canonical: agents compare it with each request's canonical model.
                budget.selector = try budget.selector.resolvingModels(with: models)
                let before = store.budget(id: budget.id)?.budget
                let (change, status) = try board.setBudget(budget)
                if change != .unchanged { audit?.record(who, "budget.set", target: "budget:\(budget.id)", before: before, after: budget) }
                let name = switch change {
                case .created: "created"
                case .updated(let recomputed): recomputed ? "updated, current window recounted" : "updated"
                case .unchanged: "unchanged"
                }
                return json(change == .created ? .created : .ok,
                            BudgetView(budget: budget, status: status, change: name, wouldBlock: wouldBlock([status])(budget.id)))
            case (.DELETE, 3):
                let before = store.budget(id: parts[2])?.budget
                let remove = { try board.removeBudget(id: parts[2]) }
                guard try policies.map({ try $0.removingBudget(parts[2], remove) }) ?? remove() else { return error(.notFound, "no budget '\(parts[2])'") }
                audit?.record(who, "budget.remove", target: "budget:\(parts[2])", before: before, after: Budget?.none)
                return json(.ok, ["removed": parts[2]])
            case (.POST, 4) where parts[3] == "exemptions":
                let request: ExemptionRequest
                do {
                    request = try JSONDecoder().decode(ExemptionRequest.self, from: body)
                } catch {
                    return self.error(.badRequest, "exemption body: \(Self.describe(error)); expected {\"limit\": int, \"until\": unix seconds, \"reason\": text, \"author\": text, \"from\": unix seconds (optional, default now)}")
                }
                let now = board.now
                let exemption = BudgetExemption(budgetID: parts[2], limit: request.limit, from: request.from ?? now, until: request.until,
                                                reason: request.reason, author: request.author, createdAt: now)
                let status = try board.addExemption(exemption)
                audit?.record(who, "budget.exempt", target: "budget:\(parts[2])", before: BudgetExemption?.none, after: exemption)
                return json(.created, ExemptionView(exemption: exemption, status: status))
            default:
                return error(.notFound, "no such endpoint: \(method) \(path)")
            }
        } catch let failure as UnknownModelError {
            metrics.apiRejected("unknown_model").increment()
            return error(.badRequest, failure.description)
        } catch let failure as BudgetError {
            metrics.apiRejected("invalid_budget").increment()
            return error(.badRequest, failure.description)
        } catch let failure as PolicyBookError {
            metrics.apiRejected("budget_in_use").increment()
            return error(.conflict, failure.description)
        } catch let failure as BudgetStoreError {
            return error(.notFound, failure.description)
        } catch let failure as BadRequest {
            return error(.badRequest, failure.message)
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "budget request failed: \(error)")
        }
    }

    private struct BadRequest: Error { var message: String }

    /// Each budget's fleet-wide would-block count in the window of its status; nil without a fleet.
    private func wouldBlock(_ statuses: [BudgetStatus]) -> (String) -> Int64? {
        guard let fleet else { return { _ in nil } }
        let totals = fleet.wouldBlock(windowStarts: Dictionary(statuses.map { ($0.budgetID, $0.windowStart) }, uniquingKeysWith: { $1 }))
        return { totals[$0] ?? 0 }
    }

    /// The body's `id` may be omitted (the path names it) but must agree if present.
    private func decodeBudget(_ body: Data, id: String) throws -> Budget {
        try Budget.validateID(id)
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw BadRequest(message: "the body must be a JSON object describing the budget (selector, unit, limit, period, …)")
        }
        if let bodyID = object["id"] as? String, bodyID != id {
            throw BadRequest(message: "the body's id '\(bodyID)' differs from the path's '\(id)'")
        }
        object["id"] = id
        do {
            return try JSONDecoder().decode(Budget.self, from: JSONSerialization.data(withJSONObject: object))
        } catch let error as BudgetError {
            throw error
        } catch {
            throw BadRequest(message: "budget body: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let context):
            context.underlyingError.map { "\($0)" } ?? "invalid value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        default: "\(error)"
        }
    }

    func json<T: Encodable>(_ status: HTTPResponseStatus, _ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return error(.internalServerError, "cannot encode the response") }
        return Response(status: status, contentType: "application/json", body: String(decoding: data, as: UTF8.self))
    }
}
