import TollgateCore
import TollgateWire

/// The fleet as a value: one record per agent id, changed by reports and by batches, and
/// read as views and counts by state at a given time. `FleetRegistry` wraps it with a lock,
/// persistence and metrics; everything here is tested with plain values.
struct FleetRoster: Sendable {
    /// Agent ids beyond this are refused: in plaintext mode anyone who reaches the port could
    /// otherwise grow the registry (and its RocksDB keys) without bound.
    let capacity: Int
    private(set) var records: [String: AgentRecord] = [:]

    init(capacity: Int = 100_000, records: [AgentRecord] = []) {
        self.capacity = capacity
        for record in records { self.records[record.agentID] = record }
    }

    enum Refusal: Error, Equatable {
        case full(capacity: Int)
    }

    /// A stored record is rewritten at most this often unless who the agent is changed: the
    /// rest of a report (backlog, quota age) is only news while the agent is up, and then the
    /// next report brings it anyway. Bounds the writes of a large fleet to one per agent a minute.
    static let storeInterval = Duration.seconds(60)

    /// Takes a report in; returns the record as it now stands, if it should be stored now.
    mutating func receive(_ report: AgentReportMessage, keyName: String?, address: String?,
                          at now: ServiceClock.Instant, unixMs: Int64) throws(Refusal) -> AgentRecord? {
        var record = try existingOrNew(report.agentID, unixMs: unixMs)
        let before = (record.report?.name, record.report?.version, record.keyName, record.address)
        record.report = report
        record.reportAt = now
        record.reportUnixMs = unixMs
        // A report from a new place replaces the old one; one without (inproc, plaintext) keeps it.
        if let keyName { record.keyName = keyName }
        if let address { record.address = address }
        var ledger = record.wouldBlock ?? WouldBlockLedger()
        // A new process: what the old one counted is now only here, so it is stored at once.
        let restarted = ledger.receive(report.wouldBlock ?? [], process: report.startedUnixMs ?? 0)
        record.wouldBlock = ledger
        var restartedPolicies = false
        if report.policyHits != nil || record.policyHits != nil {
            var hits = record.policyHits ?? PolicyHitLedger()
            restartedPolicies = hits.receive(report.policyHits ?? [], process: report.startedUnixMs ?? 0)
            record.policyHits = hits
        }
        let changed = before != (report.name, report.version, record.keyName, record.address) || restarted || restartedPolicies
        let due = record.storedAt.map { $0.duration(to: now) >= Self.storeInterval } ?? true
        if changed || due { record.storedAt = now }
        records[report.agentID] = record
        return changed || due ? record : nil
    }

    /// A batch of `agentID` was applied (or was a duplicate): it is shipping, up to `appliedSeq`.
    mutating func batch(agentID: String, appliedSeq: UInt64, at now: ServiceClock.Instant, unixMs: Int64) throws(Refusal) {
        var record = try existingOrNew(agentID, unixMs: unixMs)
        record.batchAt = now
        record.batchUnixMs = unixMs
        record.appliedSeq = max(record.appliedSeq, appliedSeq)
        records[agentID] = record
    }

    private func existingOrNew(_ agentID: String, unixMs: Int64) throws(Refusal) -> AgentRecord {
        if let record = records[agentID] { return record }
        guard records.count < capacity else { throw .full(capacity: capacity) }
        return AgentRecord(agentID: agentID, firstSeenUnixMs: unixMs)
    }

    /// What each budget would have refused, summed over every agent, in the window that
    /// `windowStarts` gives for it (its current one); budgets no agent counted are absent.
    func wouldBlock(windowStarts: [String: Int64]) -> [String: Int64] {
        var totals: [String: Int64] = [:]
        for record in records.values { record.wouldBlock?.add(into: &totals, windowStarts: windowStarts) }
        return totals
    }

    /// Each policy's hits summed over every agent (current processes and earlier ones);
    /// policies no agent counted are absent.
    func policyHits() -> [String: PolicyHitCounts] {
        var totals: [String: PolicyHitCounts] = [:]
        for record in records.values { record.policyHits?.add(into: &totals) }
        return totals
    }

    /// The agents that reported they could not apply a policy, with the reason, by policy id
    /// (only agents whose latest report says so: an agent that applied a later version stops).
    func policyRejections() -> [String: [PolicyRejectionView]] {
        var rejections: [String: [PolicyRejectionView]] = [:]
        for record in records.values {
            for rejection in record.report?.rejectedPolicies ?? [] {
                rejections[rejection.policyID, default: []].append(
                    PolicyRejectionView(agentID: record.agentID, name: record.report?.name, reason: rejection.reason))
            }
        }
        return rejections.mapValues { $0.sorted { ($0.name ?? "", $0.agentID) < ($1.name ?? "", $1.agentID) } }
    }

    /// Every agent as the API shows it, by name then id.
    func views(now: ServiceClock.Instant, unixMs: Int64) -> [AgentView] {
        records.values.map { AgentView($0, state: $0.state(now: now), nowUnixMs: unixMs, sinceReport: $0.reportAt.map { $0.duration(to: now) }) }
            .sorted { ($0.name ?? "", $0.agentID) < ($1.name ?? "", $1.agentID) }
    }

    /// How many agents are in each state now; every state present, 0 included.
    func counts(now: ServiceClock.Instant) -> [AgentState: Int] {
        var counts = Dictionary(uniqueKeysWithValues: AgentState.allCases.map { ($0, 0) })
        for record in records.values { counts[record.state(now: now), default: 0] += 1 }
        return counts
    }
}
