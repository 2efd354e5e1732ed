import TollgateCore

/// One agent as the fleet view shows it: the body of `GET /v1/agents` (an array), written
/// by the aggregator and read by `tollgate agents`.
///
/// Ages are computed by the aggregator at the time of the request, so a CLI on a host
/// with a skewed clock still reads them right; the `…_unix_ms` fields say when, for people
/// and tools that want the instant.
public struct AgentView: Codable, Equatable, Sendable {
    public var agentID: String
    /// `fleet.name` on the agent (its host name by default); nil until its first report.
    public var name: String?
    public var version: String?
    /// The IP address its connection came from.
    public var address: String?
    /// The allowlist name of its CurveZMQ key; nil on a plaintext channel.
    public var keyName: String?
    public var state: AgentState
    /// `quota.enforcement` on the agent: enforce or observe.
    public var enforcement: String?
    public var firstSeenUnixMs: Int64
    public var lastReportUnixMs: Int64?
    public var lastReportAgeMs: Int64?
    public var lastBatchUnixMs: Int64?
    public var lastBatchAgeMs: Int64?
    /// The last batch seq the aggregator applied for it.
    public var appliedSeq: UInt64
    /// The last seq the agent says was acknowledged (0: none since it started).
    public var ackedSeq: UInt64?
    /// Batches and bytes spooled on the agent, not yet acknowledged.
    public var spoolBatches: Int?
    public var spoolBytes: Int64?
    public var spoolOverBound: Bool?
    /// The agent cannot write its spool (disk full, I/O errors): its usage is held in memory.
    public var spoolUnwritable: Bool?
    public var quotaVersion: UInt64?
    /// How old the agent's quota state is now; nil when it never received one (or never reported).
    public var quotaAgeMs: Int64?
    /// Policies it received and could not apply (it keeps the previous version), with why; nil: none.
    public var rejectedPolicies: [RejectedPolicyView]?

    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", name, version, address, keyName = "key_name", state, enforcement
        case firstSeenUnixMs = "first_seen_unix_ms", lastReportUnixMs = "last_report_unix_ms", lastReportAgeMs = "last_report_age_ms"
        case lastBatchUnixMs = "last_batch_unix_ms", lastBatchAgeMs = "last_batch_age_ms", appliedSeq = "applied_seq"
        case ackedSeq = "acked_seq", spoolBatches = "spool_batches", spoolBytes = "spool_bytes", spoolOverBound = "spool_over_bound"
        case spoolUnwritable = "spool_unwritable"
        case quotaVersion = "quota_version", quotaAgeMs = "quota_age_ms", rejectedPolicies = "rejected_policies"
    }

    /// `sinceReport`: how long ago the report arrived on the monotonic clock (nil since a
    /// restart), which ages the agent's quota state; the calendar gives the other ages.
    init(_ record: AgentRecord, state: AgentState, nowUnixMs: Int64, sinceReport: Duration?) {
        agentID = record.agentID
        name = record.report?.name
        version = record.report?.version
        address = record.address
        keyName = record.keyName
        self.state = state
        enforcement = record.report?.enforcement.rawValue
        firstSeenUnixMs = record.firstSeenUnixMs
        lastReportUnixMs = record.reportUnixMs
        lastReportAgeMs = record.reportUnixMs.map { max(0, nowUnixMs - $0) }
        lastBatchUnixMs = record.batchUnixMs
        lastBatchAgeMs = record.batchUnixMs.map { max(0, nowUnixMs - $0) }
        appliedSeq = record.appliedSeq
        ackedSeq = record.report?.ackedSeq
        spoolBatches = record.report?.spoolBatches
        spoolBytes = record.report?.spoolBytes
        spoolOverBound = record.report?.spoolOverBound
        spoolUnwritable = record.report?.spoolUnwritable
        quotaVersion = record.report?.quotaVersion
        let sinceReportMs = sinceReport?.wholeMilliseconds ?? lastReportAgeMs ?? 0
        quotaAgeMs = record.report?.quotaAgeMs.map { $0 + sinceReportMs }
        rejectedPolicies = record.report?.rejectedPolicies.map { $0.map { RejectedPolicyView(policyID: $0.policyID, reason: $0.reason) } }
    }
}
