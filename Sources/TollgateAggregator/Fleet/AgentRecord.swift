import TollgateCore
import TollgateWire

/// Everything the aggregator knows of one agent. The persisted part (`Codable`) survives a
/// restart so the fleet list does; the monotonic instants do not, which is what makes every
/// agent offline after a restart until it is heard from again.
struct AgentRecord: Codable, Equatable, Sendable {
    var agentID: String
    /// The allowlist name of the CurveZMQ key it spoke with (the ZAP User-Id); nil in plaintext.
    var keyName: String?
    /// Its IP address as libzmq saw the connection.
    var address: String?
    var firstSeenUnixMs: Int64
    /// The latest report, and when it arrived (calendar time, for people).
    var report: AgentReportMessage?
    var reportUnixMs: Int64?
    /// The last batch applied or acknowledged as a duplicate, and the seq applied up to then.
    var batchUnixMs: Int64?
    var appliedSeq: UInt64 = 0
    /// What budgets would have refused on it, this process and earlier ones; nil before its first report.
    var wouldBlock: WouldBlockLedger?
    /// What its policies did, this process and earlier ones; nil before a report that counted any.
    var policyHits: PolicyHitLedger?

    /// When the latest report and batch arrived, on this process's monotonic clock; nil
    /// since a restart until the next one.
    var reportAt: ServiceClock.Instant?
    var batchAt: ServiceClock.Instant?
    /// When this record was last written to RocksDB (nil: not since start).
    var storedAt: ServiceClock.Instant?

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", keyName = "key_name", address, firstSeenUnixMs = "first_seen_unix_ms"
        case report, reportUnixMs = "report_unix_ms", batchUnixMs = "batch_unix_ms", appliedSeq = "applied_seq"
        case wouldBlock = "would_block", policyHits = "policy_hits"
    }

    init(agentID: String, firstSeenUnixMs: Int64) {
        self.agentID = agentID
        self.firstSeenUnixMs = firstSeenUnixMs
    }

    func state(now: ServiceClock.Instant) -> AgentState {
        AgentState.of(report: report, reportAt: reportAt, batchAt: batchAt, now: now)
    }
}
