/// What one spend policy did on one agent since it started (`PolicyHits` in the .proto):
/// requests it routed or refused, and what it would have routed or refused in dry-run.
/// The aggregator sums them over the fleet for `tollgate policy list`.
public struct PolicyHitCounts: Hashable, Sendable, Codable {
    public var policyID: String
    public var routed: Int64
    public var refused: Int64
    public var dryRunRouted: Int64
    public var dryRunRefused: Int64

    public init(policyID: String, routed: Int64 = 0, refused: Int64 = 0, dryRunRouted: Int64 = 0, dryRunRefused: Int64 = 0) {
        self.policyID = policyID
        self.routed = routed
        self.refused = refused
        self.dryRunRouted = dryRunRouted
        self.dryRunRefused = dryRunRefused
    }

    public var total: Int64 { routed + refused + dryRunRouted + dryRunRefused }

    enum CodingKeys: String, CodingKey {
        case policyID = "policy_id", routed, refused, dryRunRouted = "dry_run_routed", dryRunRefused = "dry_run_refused"
    }
}

extension Tollgate_V1_PolicyHits {
    init(_ counts: PolicyHitCounts) {
        self.init()
        policyID = counts.policyID
        routed = UInt64(clamping: counts.routed)
        refused = UInt64(clamping: counts.refused)
        dryRunRouted = UInt64(clamping: counts.dryRunRouted)
        dryRunRefused = UInt64(clamping: counts.dryRunRefused)
    }
}
