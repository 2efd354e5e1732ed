import TollgateCore
import TollgateWire

/// When the agent tells the aggregator how it stands, and what it says: the shipper's
/// thread asks it each turn and sends the report on the usage socket it already owns.
///
/// A report goes out as soon as the agent can (at start and after a reconnect), then every
/// `interval`, and at once when the quota channel's condition changes (first update,
/// stale, fresh again), so `tollgate agents` does not show a just-started agent as
/// never subscribed for a whole interval. A send that fails (the aggregator is away) is
/// retried after `retryDelay`, not on every 10 ms turn.
struct FleetReporter {
    struct Settings: Sendable {
        var agentID: String
        var name: String
        var interval: Duration
        /// `quota.stale_after_ms`: the aggregator judges the agent's quota state by the agent's own line.
        var staleAfter: Duration
        var enforcement: AgentReportMessage.Enforcement
    }

    /// The quota channel as the book holds it; its state is the one `/status` shows.
    typealias QuotaView = TollgateAgent.QuotaView

    /// What the shipper knows of its own progress.
    struct Shipping: Equatable {
        var ackedSeq: UInt64 = 0
        var spoolBatches = 0
        var spoolBytes = 0
        var spoolOverBound = false
        var spoolUnwritable = false
    }

    static let retryDelay = Duration.milliseconds(250)

    let settings: Settings
    /// When the next periodic report is due; nil: as soon as possible.
    private var nextDue: ServiceClock.Instant?
    /// After a failed send, nothing before this.
    private var notBefore: ServiceClock.Instant?
    private var lastCondition: QuotaChannelHealth.State?
    private var lastSpoolUnwritable = false
    /// A policy this agent cannot apply is reported at once: `tollgate agents` shows it.
    private var lastRejectedPolicies: [PolicyRejection] = []

    init(settings: Settings) {
        self.settings = settings
    }

    /// A change of quota state or of spool writability is reported at once, not at the next interval.
    func isDue(now: ServiceClock.Instant, quota: QuotaView, spoolUnwritable: Bool = false) -> Bool {
        if let notBefore, now < notBefore { return false }
        guard let nextDue else { return true }
        return now >= nextDue || quota.state != lastCondition || spoolUnwritable != lastSpoolUnwritable
            || quota.rejectedPolicies != lastRejectedPolicies
    }

    func report(quota: QuotaView, shipping: Shipping, unixMs: Int64) -> AgentReportMessage {
        AgentReportMessage(
            agentID: settings.agentID, name: settings.name, version: TollgateVersion.current, ackedSeq: shipping.ackedSeq,
            spoolBatches: shipping.spoolBatches, spoolBytes: Int64(shipping.spoolBytes), spoolOverBound: shipping.spoolOverBound,
            spoolUnwritable: shipping.spoolUnwritable,
            quotaVersion: quota.version, quotaAgeMs: quota.age?.wholeMilliseconds, enforcement: settings.enforcement,
            staleAfterMs: settings.staleAfter.wholeMilliseconds, reportIntervalMs: settings.interval.wholeMilliseconds, sentUnixMs: unixMs,
            wouldBlock: quota.countingSinceUnixMs > 0 ? quota.wouldBlock : nil,
            startedUnixMs: quota.countingSinceUnixMs > 0 ? quota.countingSinceUnixMs : nil,
            policyHits: quota.countingSinceUnixMs > 0 ? Self.mostHit(quota.policyHits) : nil,
            rejectedPolicies: quota.countingSinceUnixMs > 0 ? Array(quota.rejectedPolicies.prefix(AgentReportCodec.maxRejectedPolicies)) : nil)
    }

    /// At most what a report may carry: the most-hit policies, in id order.
    static func mostHit(_ hits: [PolicyHitCounts]) -> [PolicyHitCounts] {
        guard hits.count > AgentReportCodec.maxPolicyHits else { return hits }
        return hits.sorted { ($0.total, $1.policyID) > ($1.total, $0.policyID) }.prefix(AgentReportCodec.maxPolicyHits)
            .sorted { $0.policyID < $1.policyID }
    }

    mutating func sent(now: ServiceClock.Instant, quota: QuotaView, spoolUnwritable: Bool = false) {
        lastSpoolUnwritable = spoolUnwritable
        nextDue = now.advanced(by: settings.interval)
        notBefore = nil
        lastCondition = quota.state
        lastRejectedPolicies = quota.rejectedPolicies
    }

    mutating func failed(now: ServiceClock.Instant) {
        notBefore = now.advanced(by: Self.retryDelay)
    }

    /// A new socket: report on it as soon as it takes a message.
    mutating func reconnected() {
        nextDue = nil
        notBefore = nil
    }
}
