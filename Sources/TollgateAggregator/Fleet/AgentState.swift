import TollgateCore
import TollgateWire

/// Where an agent stands, as the fleet view shows it. Derived, never stored: a pure
/// function of the last report, the last batch and the time now, so a state cannot go
/// stale in the registry while nobody looks.
public enum AgentState: String, CaseIterable, Codable, Sendable {
    /// Reporting, and holding a quota state fresher than its own `stale_after_ms`.
    case enforcing
    /// Reporting, but its quota state is older than its `stale_after_ms`: it enforces
    /// the last budgets it heard (or denies, under `on_stale: deny`).
    case stale
    /// Reporting, and has never received a quota update since it started: it enforces no
    /// budget at all. An alert, not a silence (DESIGN.md).
    case neverSubscribed = "never_subscribed"
    /// Ships batches but sent no report lately: an agent older than the fleet report.
    case unknown
    /// Neither a report nor a batch for three report intervals (or since this aggregator
    /// started): the agent is down, or cannot reach the aggregator and spools.
    case offline

    /// How long an agent may be silent before it counts as offline: three report intervals,
    /// so one lost report is not an outage, and at least a second.
    static func offlineAfter(reportInterval: Duration) -> Duration {
        max(reportInterval * 3, .seconds(1))
    }

    /// Silence allowed to an agent that never reported (no report interval to go by).
    static let batchSilence = Duration.seconds(15)

    /// The state of an agent whose last report (if any since this aggregator started)
    /// arrived at `reportAt`, and last batch at `batchAt`.
    static func of(report: AgentReportMessage?, reportAt: ServiceClock.Instant?, batchAt: ServiceClock.Instant?,
                   now: ServiceClock.Instant) -> AgentState {
        // An agent that reports is judged by its own interval, batches included: its last
        // batch (the flush as it stops) must not keep it "unknown" for long after it went away.
        let silence = report.map { offlineAfter(reportInterval: .milliseconds($0.reportIntervalMs)) } ?? batchSilence
        if let report, let reportAt {
            let sinceReport = reportAt.duration(to: now)
            if sinceReport <= silence {
                guard let age = report.quotaAgeMs else { return .neverSubscribed }
                // The agent's age was true when it sent the report; it has aged since.
                return .milliseconds(age) + sinceReport > .milliseconds(report.staleAfterMs) ? .stale : .enforcing
            }
        }
        if let batchAt, batchAt.duration(to: now) <= silence { return .unknown }
        return .offline
    }
}
