import Foundation
import NIOHTTP1

/// The fleet endpoint, under the budgets' token rule: an agent list names hosts, addresses
/// and keys, which is no more public than who spends what.
///
/// - `GET /v1/agents`: `[AgentView]`, every agent that has connected, by name, with its
///   state now (enforcing, stale, never_subscribed, unknown, offline).
extension APIRouter {
    func agentsRoute(method: HTTPMethod, path: String, authorization: String?) -> Response {
        guard let fleet else { return error(.notFound, "the fleet is not served by this aggregator") }
        if let refused = refusal(method: method, path: path, authorization: authorization) { return refused }
        return json(.ok, fleet.agents())
    }
}
