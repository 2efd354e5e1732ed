import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Every agent that has connected, kept up to date by the ingest threads (reports on the
/// socket thread, batches on the commit thread) and read by the API: `GET /v1/agents`,
/// `tollgate agents` and the `tollgate_fleet_agents{state}` gauges.
///
/// A thin shell around `FleetRoster`: a lock, RocksDB persistence (so a restart keeps the
/// list, every agent offline until heard from again) and metrics.
final class FleetRegistry: Sendable {
    private let roster: NIOLockedValueBox<FleetRoster>
    private let store: UsageStore
    private let metrics: AggregatorMetrics
    private let logger: Logger
    /// States are judged on its monotonic time; shown times come from its calendar.
    private let clock: ServiceClock

    init(store: UsageStore, metrics: AggregatorMetrics, logger: Logger, clock: ServiceClock = .system, capacity: Int = 100_000) throws {
        let (records, unreadable) = try store.loadAgents()
        if unreadable > 0 { logger.warning("skipped \(unreadable) unreadable fleet record(s); those agents reappear when they next report") }
        roster = NIOLockedValueBox(FleetRoster(capacity: capacity, records: records))
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
    }

    /// Takes one report frame from the usage channel; a malformed one is counted and logged.
    /// `keyName` is the connection's ZAP User-Id, `address` its peer address.
    func receive(reportFrame frame: Data, keyName: String?, address: String?) {
        let report: AgentReportMessage
        do {
            report = try AgentReportCodec.decode(frame)
        } catch {
            metrics.fleetReportsRejected(error.reason).increment()
            logger.warning("rejected an agent report\(address.map { " from \($0)" } ?? ""): \(error)")
            return
        }
        // A report for an agent id bound to another key would let that key rewrite the
        // agent's entry in the fleet view (its key name, address, quota standing).
        if let keyName, let bound = try? store.binding(agentID: report.agentID), bound != keyName {
            metrics.fleetReportsRejected("identity").increment()
            logger.warning("refused a report for agent \(report.agentID) from key \"\(keyName)\": that agent id is bound to key \"\(bound)\"")
            return
        }
        let now = clock.now
        let unixMs = clock.unixMilliseconds
        let record: AgentRecord?
        do {
            record = try roster.withLockedValue { try $0.receive(report, keyName: keyName, address: address, at: now, unixMs: unixMs) }
        } catch {
            metrics.fleetReportsRejected("registry_full").increment()
            logger.warning("refused a report from new agent \(report.agentID): the fleet registry is full")
            return
        }
        metrics.fleetReports.increment()
        guard let record else { return }
        do {
            try store.saveAgent(record)
        } catch {
            // The registry in memory is right; only a restart would forget this report.
            metrics.storeErrors.increment()
            logger.error("could not store agent \(report.agentID)'s report: \(error)")
        }
    }

    /// A batch of `agentID` committed (or acknowledged as a duplicate), the agent applied up to `appliedSeq`.
    func batch(agentID: String, appliedSeq: UInt64) {
        let now = clock.now
        let unixMs = clock.unixMilliseconds
        // A full registry only loses the view of an agent that never reported; its usage is committed.
        try? roster.withLockedValue { try $0.batch(agentID: agentID, appliedSeq: appliedSeq, at: now, unixMs: unixMs) }
    }

    /// Every agent, by name, with its state now.
    func agents() -> [AgentView] {
        let now = clock.now
        let unixMs = clock.unixMilliseconds
        return roster.withLockedValue { $0.views(now: now, unixMs: unixMs) }
    }

    /// What each budget would have refused over the fleet, in the window starting at
    /// `windowStarts[budgetID]` (see `WouldBlockLedger`).
    func wouldBlock(windowStarts: [String: Int64]) -> [String: Int64] {
        roster.withLockedValue { $0.wouldBlock(windowStarts: windowStarts) }
    }

    /// Each policy's hits over the fleet (see `PolicyHitLedger`).
    func policyHits() -> [String: PolicyHitCounts] {
        roster.withLockedValue { $0.policyHits() }
    }

    /// Per policy, the agents whose latest report says they could not apply it.
    func policyRejections() -> [String: [PolicyRejectionView]] {
        roster.withLockedValue { $0.policyRejections() }
    }

    /// Whether `agentID` is an agent we know (it reported or shipped) and `keyName` (the
    /// sender's ZAP User-Id; nil on a plaintext channel) may speak for it: the key its id is
    /// bound to, or, before any batch bound it, the key its reports came with.
    func knows(agentID: String, keyName: String?) -> Bool {
        guard let record = roster.withLockedValue({ $0.records[agentID] }) else { return false }
        guard let keyName else { return true }
        if let bound = try? store.binding(agentID: agentID) { return bound == keyName }
        return record.keyName == keyName
    }

    /// Agents heard from lately (any state but offline): how many may ask for a lease.
    func onlineCount() -> Int {
        let now = clock.now
        return roster.withLockedValue { $0.counts(now: now) }.filter { $0.key != .offline }.values.reduce(0, +)
    }

    /// Sets `tollgate_fleet_agents{state}` to the counts now; called before `/metrics` is written.
    func updateMetrics() {
        let now = clock.now
        for (state, count) in roster.withLockedValue({ $0.counts(now: now) }) {
            metrics.fleetAgents(state).set(to: Double(count))
        }
    }
}
