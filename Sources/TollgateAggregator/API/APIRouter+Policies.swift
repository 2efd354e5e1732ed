import Foundation
import NIOHTTP1
import TollgateCore

/// Policy endpoints, under the budgets' token rule: reads take the read-only or the admin
/// token, changes only the admin token, and each change is in the audit log
/// (`policy:<id>`: `policy.set`, `policy.remove`, `policy.except`, `policy.unexcept`).
/// Every change reaches every agent with the quota state (a delta, sent at once).
///
/// - `GET /v1/policies`: `[PolicyView]`, by id, with fleet-wide hits and rejecting agents.
/// - `GET /v1/policies/{id}`: one `PolicyView`.
/// - `PUT /v1/policies/{id}`: a `Policy` as JSON (`id` may be left out) → `PolicyView`;
///   400 with the validator's reason (unknown model, cross-provider or looping route, …).
///   A body without `exceptions` keeps the policy's current ones.
/// - `DELETE /v1/policies/{id}`: `{removed}`.
/// - `POST /v1/policies/{id}/exceptions`: `{scope, until, reason, author}` → `PolicyView`.
/// - `DELETE /v1/policies/{id}/exceptions/{index}`: ends exception `index` (from 0) → `PolicyView`.
extension APIRouter {
    func policiesRoute(method: HTTPMethod, path: String, authorization: String?, actor: String?, body: Data) -> Response {
        guard let book = policies else { return error(.notFound, "policies are not served by this aggregator") }
        let who: AuditActor
        switch authorize(method: method, path: path, authorization: authorization, actor: actor) {
        case .failure(let refused): return refused.response
        case .success(let actor): who = actor
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)  // v1, policies, id?, exceptions?, index?
        do {
            switch (method, parts.count) {
            case (.GET, 2):
                let hits = fleetPolicyHits(), rejections = fleet?.policyRejections() ?? [:]
                return json(.ok, book.all().map { PolicyView(policy: $0, hits: hits[$0.id] ?? PolicyHitsView(), rejectedBy: rejections[$0.id] ?? []) })
            case (.GET, 3):
                guard let policy = book.policy(id: parts[2]) else { throw PolicyBookError.unknownPolicy(parts[2]) }
                return json(.ok, view(policy))
            case (.PUT, 3):
                var policy = try decodePolicy(body, id: parts[2])
                if !Self.hasKey("exceptions", in: body) { policy.exceptions = book.policy(id: policy.id)?.exceptions ?? [] }
                let (before, after) = try book.set(policy)
                if before != after { audit?.record(who, "policy.set", target: "policy:\(after.id)", before: before, after: after) }
                let change = before == nil ? "created" : before == after ? "unchanged" : "updated"
                return json(before == nil ? .created : .ok, view(after, change: change))
            case (.DELETE, 3):
                guard let before = try book.remove(id: parts[2]) else { throw PolicyBookError.unknownPolicy(parts[2]) }
                audit?.record(who, "policy.remove", target: "policy:\(parts[2])", before: before, after: Policy?.none)
                return json(.ok, ["removed": parts[2]])
            case (.POST, 4) where parts[3] == "exceptions":
                let request: PolicyExceptionRequest
                do {
                    request = try JSONDecoder().decode(PolicyExceptionRequest.self, from: body)
                } catch {
                    throw BadPolicyRequest(message: "exception body: \(Self.describePolicyBody(error)); expected {\"scope\": \"team=research\" (or \"*\"), \"until\": unix seconds, \"reason\": text, \"author\": text}")
                }
                let exception = PolicyException(scope: try BudgetSelector(parsing: request.scope.isEmpty ? "*" : request.scope), untilUnix: request.until,
                                                reason: request.reason, author: request.author, createdUnix: clock.unixSeconds)
                let (before, after) = try book.addException(exception, to: parts[2])
                audit?.record(who, "policy.except", target: "policy:\(parts[2])", before: before, after: after)
                return json(.created, view(after))
            case (.DELETE, 5) where parts[3] == "exceptions":
                guard let index = Int(parts[4]), index >= 0 else {
                    throw BadPolicyRequest(message: "exception '\(parts[4])' is not an index; exceptions are numbered from 0 as `tollgate policy show` lists them")
                }
                let (before, after) = try book.removeException(at: index, from: parts[2])
                audit?.record(who, "policy.unexcept", target: "policy:\(parts[2])", before: before, after: after)
                return json(.ok, view(after))
            default:
                return error(.notFound, "no such endpoint: \(method) \(path)")
            }
        } catch let failure as PolicyBookError {
            switch failure {
            case .unknownPolicy, .unknownException:
                metrics.apiRejected("unknown_policy").increment()
                return error(.notFound, failure.description)
            case .budgetInUse:
                return error(.conflict, failure.description)
            case .exceptionEnded:
                metrics.apiRejected("invalid_policy").increment()
                return error(.badRequest, failure.description)
            }
        } catch let failure as PolicyError {
            metrics.apiRejected("invalid_policy").increment()
            return error(.badRequest, failure.description)
        } catch let failure as BudgetError {
            // A scope that does not parse, or names an unknown model.
            metrics.apiRejected("invalid_policy").increment()
            return error(.badRequest, "scope: \(failure.description)")
        } catch let failure as UnknownModelError {
            metrics.apiRejected("invalid_policy").increment()
            return error(.badRequest, "scope: \(failure.description)")
        } catch let failure as BadPolicyRequest {
            metrics.apiRejected("invalid_policy").increment()
            return error(.badRequest, failure.message)
        } catch {
            metrics.apiErrors.increment()
            return self.error(.internalServerError, "policy request failed: \(error)")
        }
    }

    private struct BadPolicyRequest: Error { var message: String }

    private func view(_ policy: Policy, change: String? = nil) -> PolicyView {
        PolicyView(policy: policy, hits: fleetPolicyHits()[policy.id] ?? PolicyHitsView(),
                   rejectedBy: fleet?.policyRejections()[policy.id] ?? [], change: change)
    }

    func fleetPolicyHits() -> [String: PolicyHitsView] {
        (fleet?.policyHits() ?? [:]).mapValues {
            PolicyHitsView(routed: $0.routed, refused: $0.refused, dryRunRouted: $0.dryRunRouted, dryRunRefused: $0.dryRunRefused)
        }
    }

    /// The policy families of `/metrics` (`PolicyGauges`); empty when policies are not served.
    func policyGauges() -> String {
        guard let policies else { return "" }
        return PolicyGauges.exposition(policies.all(), hits: fleetPolicyHits(),
                                       rejecting: (fleet?.policyRejections() ?? [:]).mapValues(\.count))
    }

    /// The body's `id` may be omitted (the path names it) but must agree if present.
    private func decodePolicy(_ body: Data, id: String) throws -> Policy {
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            throw BadPolicyRequest(message: "the body must be a JSON object describing the policy: {\"kind\": route|downgrade|allow|deny, \"scope\", \"models\": [...], \"target\", …}")
        }
        if let bodyID = object["id"] as? String, bodyID != id {
            throw BadPolicyRequest(message: "the body's id '\(bodyID)' differs from the path's '\(id)'")
        }
        object["id"] = id
        do {
            return try JSONDecoder().decode(Policy.self, from: JSONSerialization.data(withJSONObject: object))
        } catch let error as PolicyError {
            throw error
        } catch let error as BudgetError {
            throw error
        } catch {
            throw BadPolicyRequest(message: "policy body: \(Self.describePolicyBody(error))")
        }
    }

    private static func hasKey(_ key: String, in body: Data) -> Bool {
        ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?[key] != nil
    }

    private static func describePolicyBody(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let context):
            switch context.codingPath.last?.stringValue {
            case "kind": "kind: expected one of \(Policy.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            case "mode": "mode: expected enforce or dry_run"
            default: context.underlyingError.map { "\($0)" } ?? "invalid value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
            }
        default: "\(error)"
        }
    }
}
