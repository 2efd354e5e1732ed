import Foundation
import NIOHTTP1

/// The fleet endpoint, under the budgets' token rule: an agent list names hosts, addresses
/// and keys, which is no more public than who spends what.
///
/// - `GET /v1/agents`: `[AgentView]`, every agent that has connected, by name, with its
///   state now (enforcing, stale, never_subscribed, unknown, offline).
extension APIRouter {
    func agentsRoute(authorization: String?) -> Response {
        guard let fleet else { return error(.notFound, "the fleet is not served by this aggregator") }
        if let refusal = unauthorized(authorization) { return refusal }
        return json(.ok, fleet.agents())
    }

    /// The 401 for a request without the API token; nil when the token is right.
    func unauthorized(_ authorization: String?) -> Response? {
        if let token, token.accepts(authorization: authorization) { return nil }
        return error(.unauthorized, authorization == nil
            ? "missing bearer token: send Authorization: Bearer <token> (the token is in the aggregator's api_token_file, by default <data_dir>/api-token)"
            : "wrong bearer token: use the one in the aggregator's api_token_file (by default <data_dir>/api-token)")
    }
}
