import Foundation

/// What one agent's policies did since the agent process started (`AgentReport.policy_hits`):
/// the aggregator sums the latest counts of every agent into each policy's fleet-wide hits
/// (`tollgate policy list`).
public struct PolicyHitCount: Equatable, Hashable, Sendable, Codable {
    public var policyID: String
    public var routed: Int64
    public var refused: Int64
    /// A dry-run policy would have routed (or refused) this many; traffic was not changed.
    public var dryRunRouted: Int64
    public var dryRunRefused: Int64

    public init(policyID: String, routed: Int64 = 0, refused: Int64 = 0, dryRunRouted: Int64 = 0, dryRunRefused: Int64 = 0) {
        self.policyID = policyID
        self.routed = routed
        self.refused = refused
        self.dryRunRouted = dryRunRouted
        self.dryRunRefused = dryRunRefused
    }

    enum CodingKeys: String, CodingKey {
        case policyID = "policy_id", routed, refused, dryRunRouted = "dry_run_routed", dryRunRefused = "dry_run_refused"
    }

    public mutating func add(_ other: PolicyHitCount) {
        routed &+= other.routed
        refused &+= other.refused
        dryRunRouted &+= other.dryRunRouted
        dryRunRefused &+= other.dryRunRefused
    }
}

/// Written out: a conformance added outside the type's own file cannot be synthesised.
extension PolicyRejection: Codable {
    enum CodingKeys: String, CodingKey {
        case policyID = "policy_id", reason
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(policyID: try container.decode(String.self, forKey: .policyID), reason: try container.decode(String.self, forKey: .reason))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(policyID, forKey: .policyID)
        try container.encode(reason, forKey: .reason)
    }
}

extension AgentReportCodec {
    /// Policies counted in one report; an agent with more sends the ones with most hits.
    public static let maxPolicyHits = 1_024
    /// Policies an agent reports it could not apply, at most; their reasons at most `maxRejectionReasonLength` bytes.
    public static let maxPolicyRejections = 64
    public static let maxRejectionReasonLength = 512

    static func encodePolicies(_ report: AgentReportMessage, into message: inout Tollgate_V1_AgentReport) {
        message.policyHits = (report.policyHits ?? []).map { count in
            var entry = Tollgate_V1_PolicyHits()
            entry.policyID = count.policyID
            entry.routed = UInt64(clamping: count.routed)
            entry.refused = UInt64(clamping: count.refused)
            entry.dryRunRouted = UInt64(clamping: count.dryRunRouted)
            entry.dryRunRefused = UInt64(clamping: count.dryRunRefused)
            return entry
        }
        message.rejectedPolicies = (report.rejectedPolicies ?? []).map { rejection in
            var entry = Tollgate_V1_PolicyRejection()
            entry.policyID = rejection.policyID
            entry.reason = rejection.reason
            return entry
        }
    }

    /// The report's policy counts and rejections, checked like its other fields; nil when
    /// the agent sent none (an agent that predates policies, or one with none).
    static func decodePolicies(_ message: Tollgate_V1_AgentReport) throws(AgentReportError) -> (hits: [PolicyHitCount]?, rejected: [PolicyRejection]?) {
        guard message.policyHits.count <= maxPolicyHits else {
            throw .invalid(field: "policy_hits", reason: "\(message.policyHits.count) entries, at most \(maxPolicyHits)")
        }
        guard message.rejectedPolicies.count <= maxPolicyRejections else {
            throw .invalid(field: "rejected_policies", reason: "\(message.rejectedPolicies.count) entries, at most \(maxPolicyRejections)")
        }
        var hits: [PolicyHitCount] = []
        for entry in message.policyHits {
            try checkText("policy_hits.policy_id", entry.policyID, maxLength: maxIDLength)
            let values = [entry.routed, entry.refused, entry.dryRunRouted, entry.dryRunRefused]
            guard values.allSatisfy({ $0 <= UInt64(Int64.max) }) else { throw .invalid(field: "policy_hits", reason: "a count is out of range") }
            hits.append(PolicyHitCount(policyID: entry.policyID, routed: Int64(entry.routed), refused: Int64(entry.refused),
                                       dryRunRouted: Int64(entry.dryRunRouted), dryRunRefused: Int64(entry.dryRunRefused)))
        }
        // One count per policy: a second would be summed twice into the fleet's figure.
        guard Set(hits.map(\.policyID)).count == hits.count else { throw .invalid(field: "policy_hits", reason: "a policy appears twice") }
        var rejected: [PolicyRejection] = []
        for entry in message.rejectedPolicies {
            try checkText("rejected_policies.policy_id", entry.policyID, maxLength: maxIDLength)
            guard entry.reason.utf8.count <= maxRejectionReasonLength else {
                throw .invalid(field: "rejected_policies.reason", reason: "longer than \(maxRejectionReasonLength) bytes")
            }
            rejected.append(PolicyRejection(policyID: entry.policyID, reason: entry.reason))
        }
        return (hits.isEmpty ? nil : hits, rejected.isEmpty ? nil : rejected)
    }

    private static func checkText(_ field: String, _ value: String, maxLength: Int) throws(AgentReportError) {
        guard !value.isEmpty else { throw .invalid(field: field, reason: "missing") }
        guard value.utf8.count <= maxLength else { throw .invalid(field: field, reason: "longer than \(maxLength) bytes") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid(field: field, reason: "contains control characters")
        }
    }
}
