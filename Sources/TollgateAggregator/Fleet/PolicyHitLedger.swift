import TollgateWire

/// One agent's part of each policy's fleet-wide hits (`tollgate policy list`): the latest
/// report's counts, which restart from 0 with the agent process, plus what earlier processes
/// counted, carried here (and stored with the agent's record) so a restart does not lower
/// the fleet's figure. Like `WouldBlockLedger`, what is lost is at most what an agent counted
/// after its last report before it died.
struct PolicyHitLedger: Codable, Equatable, Sendable {
    /// The agent process the current counts come from (its start, Unix ms; 0: unknown).
    var process: Int64 = 0
    var current: [String: PolicyHitCounts] = [:]
    /// Earlier processes' counts, summed, by policy.
    var carried: [String: PolicyHitCounts] = [:]

    /// Policies carried per agent at most; beyond it the ones with the fewest hits go (removed policies).
    static let maxCarried = 2 * AgentReportCodec.maxPolicyHits

    /// Takes a report's counts in; true when they come from a new process.
    @discardableResult
    mutating func receive(_ counts: [PolicyHitCounts], process: Int64) -> Bool {
        let restarted = process != self.process && !current.isEmpty
        if restarted {
            for count in current.values { carried[count.policyID, default: PolicyHitCounts(policyID: count.policyID)].add(count) }
            if carried.count > Self.maxCarried {
                let kept = carried.values.sorted { Self.total($0) > Self.total($1) }.prefix(Self.maxCarried)
                carried = Dictionary(kept.map { ($0.policyID, $0) }, uniquingKeysWith: { first, _ in first })
            }
        }
        self.process = process
        current = Dictionary(counts.map { ($0.policyID, $0) }, uniquingKeysWith: { first, _ in first })
        return restarted
    }

    /// Adds this agent's counts, current and carried, to `totals`.
    func add(into totals: inout [String: PolicyHitCounts]) {
        for count in current.values { totals[count.policyID, default: PolicyHitCounts(policyID: count.policyID)].add(count) }
        for count in carried.values { totals[count.policyID, default: PolicyHitCounts(policyID: count.policyID)].add(count) }
    }

    private static func total(_ count: PolicyHitCounts) -> Int64 {
        count.routed &+ count.refused &+ count.dryRunRouted &+ count.dryRunRefused
    }
}

extension PolicyHitCounts {
    /// Sums wrap rather than trap: counts come from agents.
    mutating func add(_ other: PolicyHitCounts) {
        routed &+= other.routed
        refused &+= other.refused
        dryRunRouted &+= other.dryRunRouted
        dryRunRefused &+= other.dryRunRefused
    }
}
