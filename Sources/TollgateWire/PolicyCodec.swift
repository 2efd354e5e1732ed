import Foundation
import TollgateCore

/// A policy an agent received and did not apply, and why: reported in `AgentReport` so
/// `tollgate agents` shows it.
public struct PolicyRejection: Hashable, Sendable, Codable {
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

extension Tollgate_V1_SpendPolicy {
    init(_ policy: Policy) {
        self.init()
        id = policy.id
        kind = policy.kind.rawValue
        scope = policy.scope.description
        models = policy.models.map(\.description)
        target = policy.target
        budgetID = policy.budgetID
        thresholdPercent = UInt32(clamping: policy.thresholdPercent)
        mode = policy.mode.rawValue
        owner = policy.owner
        exceptionPath = policy.exceptionPath
        description_p = policy.description
        exceptions = policy.exceptions.map { exception in
            var wire = Tollgate_V1_PolicyExemption()
            wire.scope = exception.scope.description
            wire.untilUnix = exception.untilUnix
            wire.reason = exception.reason
            wire.author = exception.author
            wire.createdUnix = exception.createdUnix
            return wire
        }
    }

    /// The policy, or why it cannot be read (an unknown kind from a newer aggregator, a
    /// selector or pattern this agent does not understand).
    func domainPolicy() throws -> Policy {
        guard let kind = Policy.Kind(rawValue: kind) else {
            throw PolicyError.invalid(policy: id, reason: "unknown kind '\(kind)'")
        }
        guard let mode = Policy.Mode(rawValue: mode.isEmpty ? "enforce" : mode) else {
            throw PolicyError.invalid(policy: id, reason: "unknown mode '\(mode)'")
        }
        return Policy(
            id: id, kind: kind, scope: try BudgetSelector(parsing: scope.isEmpty ? "*" : scope),
            models: try models.map(ModelPattern.init(parsing:)), target: target, budgetID: budgetID,
            thresholdPercent: Int(thresholdPercent), mode: mode, owner: owner, exceptionPath: exceptionPath,
            description: description_p,
            exceptions: try exceptions.map { wire in
                PolicyException(scope: try BudgetSelector(parsing: wire.scope.isEmpty ? "*" : wire.scope), untilUnix: wire.untilUnix,
                                reason: wire.reason, author: wire.author, createdUnix: wire.createdUnix)
            })
    }
}
