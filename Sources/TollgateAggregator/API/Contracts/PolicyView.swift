import TollgateCore

/// One policy as `GET /v1/policies` (an array) and `GET /v1/policies/{id}` give it, read by
/// `tollgate policy list|show`: the policy as stored, what it did over the fleet, and the
/// agents that could not apply it.
public struct PolicyView: Codable, Equatable, Sendable {
    public var policy: Policy
    /// Summed over every agent's reports since each agent started (earlier processes carried).
    public var hits: PolicyHitsView
    /// Agents whose latest report says they could not apply this policy (they keep the previous version).
    public var rejectedBy: [PolicyRejectionView]
    /// Set on a change's answer: created, updated or unchanged.
    public var change: String?

    public init(policy: Policy, hits: PolicyHitsView, rejectedBy: [PolicyRejectionView], change: String? = nil) {
        self.policy = policy
        self.hits = hits
        self.rejectedBy = rejectedBy
        self.change = change
    }

    enum CodingKeys: String, CodingKey {
        case policy, hits, rejectedBy = "rejected_by", change
    }
}

/// What one policy did, in requests: routed (or refused), and what it would have done in dry-run.
public struct PolicyHitsView: Codable, Equatable, Sendable {
    public var routed: Int64 = 0
    public var refused: Int64 = 0
    public var dryRunRouted: Int64 = 0
    public var dryRunRefused: Int64 = 0

    public init(routed: Int64 = 0, refused: Int64 = 0, dryRunRouted: Int64 = 0, dryRunRefused: Int64 = 0) {
        self.routed = routed
        self.refused = refused
        self.dryRunRouted = dryRunRouted
        self.dryRunRefused = dryRunRefused
    }

    enum CodingKeys: String, CodingKey {
        case routed, refused, dryRunRouted = "dry_run_routed", dryRunRefused = "dry_run_refused"
    }
}

/// An agent that could not apply a policy, and why.
public struct PolicyRejectionView: Codable, Equatable, Sendable {
    public var agentID: String
    public var name: String?
    public var reason: String

    public init(agentID: String, name: String?, reason: String) {
        self.agentID = agentID
        self.name = name
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", name, reason
    }
}

/// A policy an agent could not apply, as `GET /v1/agents` lists them per agent.
public struct RejectedPolicyView: Codable, Equatable, Sendable {
    public var policyID: String
    public var reason: String

    public init(policyID: String, reason: String) {
        self.policyID = policyID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case policyID = "policy_id", reason
    }
}

/// The body of `POST /v1/policies/{id}/exceptions`; times are Unix seconds.
public struct PolicyExceptionRequest: Codable, Sendable {
    /// Which requests the exception covers (`team=research`); `*` all the policy's scope.
    public var scope: String
    public var until: Int64
    public var reason: String
    public var author: String

    public init(scope: String, until: Int64, reason: String, author: String) {
        self.scope = scope
        self.until = until
        self.reason = reason
        self.author = author
    }
}
