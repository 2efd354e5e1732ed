import Prometheus
import TollgateCore
import TollgateProviders
import TollgateWire

/// Every metric family the agent exports at its admin listener's `/metrics`, with its help
/// text and labels: the one list of what exists.
///
/// Handles are made once, here, from the registry passed in (one per agent, so tests can run
/// many agents in one process); a call site only increments, a relaxed atomic add. Every
/// series whose labels are known in advance exists from start at 0, so an operator's alert
/// on it works before the first event; only budget ids are labels seen at run time.
public final class AgentMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry

    // MARK: Proxy
    private let requestsByRoute: [Provider: [ProviderEndpoint: Counter]]
    private let durationByProvider: [Provider: ValueHistogram]
    private let durationUnrouted: ValueHistogram
    let rejectedRequests: CounterFamily
    let proxyConnections: Gauge
    let proxyBufferedBytes: Gauge
    let idleClientCloses: Counter
    let clientDisconnects: Counter
    let streamUsageRequested: Counter
    let rejectedAttributionHeaders: Counter
    let usageProblems: CounterFamily
    let estimatedRequests: Counter
    let unpricedRequests: Counter
    let upstreamConnectionsOpened: Counter
    let upstreamConnectionsReused: Counter
    let upstreamStaleRetries: Counter
    let upstreamFailures: Counter
    let connects: CounterFamily
    let quotaWouldBlock: CounterFamily
    let quotaBlocked: CounterFamily
    /// Requests refused because this agent's slice of a leased budget had no room.
    let leaseRefusals: CounterFamily
    /// Lease messages on the usage channel, by kind: requested, granted, refused, released, unreadable.
    let leaseMessages: CounterFamily

    // MARK: Spend policies
    /// Policies in force.
    let policies: Gauge
    let policyRouted: CounterFamily
    let policyRefusals: CounterFamily
    /// Labels policy and action (`routed`, `refused`): what dry-run policies would have done.
    let policyDryRun: CounterFamily
    let policyRejected: CounterFamily

    // MARK: Quota channel
    let quotaUpdates: Counter
    let quotaGaps: Counter
    let quotaReconnects: Counter
    let quotaRejected: CounterFamily
    let quotaVersion: Gauge
    let quotaBudgets: Gauge
    /// Keys whose team/project the aggregator's labels give (`tollgate keys label`).
    let quotaKeyLabels: Gauge
    /// One series per `QuotaChannelHealth.State`; exactly one is 1.
    let quotaState: [QuotaChannelHealth.State: Gauge]
    let quotaNoSnapshotWarnings: Counter

    // MARK: Shipping
    let eventsMetered: Counter
    let ringFullWaits: Counter
    let ringEvents: Gauge
    let batchesCut: Counter
    let cellsCut: Counter
    let pendingCells: Gauge
    let batchesSent: Counter
    let batchesAcked: Counter
    let batchesNacked: Counter
    let batchesRefused: CounterFamily
    let stateRenumbered: Counter
    let badReplies: Counter
    let unackedBatches: Gauge
    let reconnects: Counter
    let shipperFailures: Counter
    let spoolBytes: Gauge
    let spoolOverBound: Gauge
    let spoolMerges: Counter
    let spoolWriteErrors: Counter
    let spoolCorruptBatches: Counter
    let spoolTornRecords: Counter
    let reportsSent: Counter
    let spoolWritable: Gauge
    let spoolErrors: CounterFamily
    let spoolHeldBytes: Gauge
    let usageDropped: Counter
    let spoolSegments: Gauge

    /// Latency buckets from 100 µs to 60 s: the proxy's own overhead sits at the bottom,
    /// long LLM generations at the top.
    static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// The slice this agent holds of a leased budget, as of the aggregator's last answer:
    /// everything granted on it so far, in the budget unit's measure.
    func leaseGranted(_ budgetID: String) -> Gauge {
        registry.makeGauge(descriptor: .named("tollgate_agent_lease_granted",
                           help: "Per leased budget, as of the aggregator's last answer: what it has granted this agent's current slice, in the unit's measure (nanodollars, tokens, requests)."),
                           labels: [("budget", budgetID)])
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        MetricsExposition.registerBuildInfo(in: registry, component: "agent")
        func counter(_ name: String, _ help: String) -> Counter { registry.makeCounter(descriptor: .named(name, help: help)) }
        func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(descriptor: .named(name, help: help)) }
        func family(_ name: String, _ help: String, _ label: String, _ known: [String] = []) -> CounterFamily {
            CounterFamily(registry, name: name, help: help, labels: [label], known: known.map { [$0] })
        }

        // Proxy: what clients asked for and what became of it.
        requestsByRoute = Dictionary(uniqueKeysWithValues: Provider.allCases.map { provider in
            (provider, Dictionary(uniqueKeysWithValues: ProviderEndpoint.allCases.map { endpoint in
                (endpoint, registry.makeCounter(
                    descriptor: .named("tollgate_agent_requests_total", help: "Metered requests (those that carry usage), by provider and endpoint."),
                    labels: [("provider", provider.rawValue), ("endpoint", endpoint.rawValue)]))
            }))
        })
        func duration(_ provider: String) -> ValueHistogram {
            registry.makeValueHistogram(
                descriptor: .named(
                    "tollgate_agent_request_duration_seconds",
                    help: "Time from a request's head to its response's last byte, in seconds; provider \"none\" for unrouted requests."),
                labels: [("provider", provider)], buckets: Self.latencyBuckets)
        }
        durationByProvider = Dictionary(uniqueKeysWithValues: Provider.allCases.map { ($0, duration($0.rawValue)) })
        durationUnrouted = duration("none")
        rejectedRequests = family(
            "tollgate_agent_rejected_requests_total",
            "Requests the agent answered itself without forwarding, by reason.", "reason",
            ["malformed_request", "header_timeout", "body_too_large", "unknown_route", "host_not_allowed", "invalid_target", "spool_unwritable",
             "body_timeout", "request_timeout", "connections", "buffer"])
        proxyConnections = gauge(
            "tollgate_agent_proxy_connections", "Client connections open on the proxy (capped by limits.max_connections).")
        proxyBufferedBytes = gauge(
            "tollgate_agent_proxy_buffered_request_bytes",
            "Request body bytes buffered across all proxy connections (capped by limits.max_buffered_bytes).")
        idleClientCloses = counter("tollgate_agent_idle_client_closes_total", "Keep-alive client connections closed for idling.")
        clientDisconnects = counter(
            "tollgate_agent_client_disconnects_total", "Clients that left while their request was being forwarded (still metered).")
        streamUsageRequested = counter(
            "tollgate_agent_stream_usage_requested_total", "OpenAI streams the agent asked for usage (stream_options.include_usage).")
        rejectedAttributionHeaders = counter(
            "tollgate_agent_rejected_attribution_headers_total", "X-Tollgate-* attribution headers ignored as not allowed or malformed.")
        usageProblems = family(
            "tollgate_agent_usage_problems_total", "Responses whose usage could not be read cleanly, by problem.", "reason",
            TapProblem.allCases.map(\.rawValue) + ["usage_missing"])
        estimatedRequests = counter(
            "tollgate_agent_estimated_requests_total", "Successful responses that reported no usage, so their tokens were estimated.")
        unpricedRequests = counter(
            "tollgate_agent_unpriced_requests_total", "Requests for a model without a price, charged at the fallback price.")
        upstreamConnectionsOpened = counter("tollgate_agent_upstream_connections_opened_total", "Connections opened to providers.")
        upstreamConnectionsReused = counter(
            "tollgate_agent_upstream_connections_reused_total", "Requests sent on an idle pooled provider connection.")
        upstreamStaleRetries = counter(
            "tollgate_agent_upstream_stale_retries_total", "Pooled provider connections found closed and replaced before any response.")
        upstreamFailures = counter(
            "tollgate_agent_upstream_failures_total", "Requests whose provider could not be reached or failed before responding.")
        connects = family(
            "tollgate_agent_connect_total", "CONNECT requests (HTTPS_PROXY), by what the agent did with them.", "outcome",
            ["intercepted", "tunnelled", "refused", "unreachable"])
        quotaWouldBlock = family(
            "tollgate_agent_quota_would_block_total",
            "Requests a budget would have refused, admitted because quota.enforcement is observe; budget \"stale\" when the quota state is stale.",
            "budget")
        quotaBlocked = family(
            "tollgate_agent_quota_blocked_total",
            "Requests refused with 429 by a budget; budget \"stale\" when refused for stale quota state.", "budget")
        leaseRefusals = family(
            "tollgate_agent_lease_refusals_total",
            "Requests refused (also counted in quota_blocked) because this agent's slice of a leased budget had no room for their worst case.", "budget")
        leaseMessages = family(
            "tollgate_agent_lease_messages_total", "Lease messages with the aggregator: requests sent, grants, refusals and releases received, unreadable answers.",
            "kind", ["requested", "released", "granted", "refused", "unreadable"])

        // Spend policies: pushed with the quota state, applied to every metered request.
        policies = gauge("tollgate_agent_policies", "Spend policies the agent enforces (dry-run ones included), as last pushed by the aggregator.")
        policyRouted = family(
            "tollgate_agent_policy_routed_total", "Requests a policy sent to another model than the one asked for (route, or downgrade near a budget).",
            "policy")
        policyRefusals = family(
            "tollgate_agent_policy_refusals_total", "Requests refused with 403 by an allow or deny policy.", "policy")
        policyDryRun = CounterFamily(
            registry, name: "tollgate_agent_policy_dry_run_total",
            help: "Requests a dry-run policy would have routed or refused (action), changing nothing.", labels: ["policy", "action"])
        policyRejected = family(
            "tollgate_agent_policy_rejected_total",
            "Pushed policy versions this agent could not apply (unreadable, or naming models its catalog does not know); the previous version stays in force.",
            "policy")

        // Quota channel: budget states pushed by the aggregator.
        quotaUpdates = counter("tollgate_agent_quota_updates_total", "Quota updates applied from the aggregator.")
        quotaGaps = counter("tollgate_agent_quota_gaps_total", "Quota updates that skipped a version, answered by asking for a snapshot.")
        quotaReconnects = counter("tollgate_agent_quota_reconnects_total", "Quota channel reconnections after a silence.")
        quotaRejected = family(
            "tollgate_agent_quota_rejected_total", "Quota messages that could not be read, by reason.", "reason",
            WireError.reasons + ["unknown"])
        quotaVersion = gauge("tollgate_agent_quota_version", "Version of the last quota update applied.")
        quotaBudgets = gauge("tollgate_agent_quota_budgets", "Budgets the agent currently holds and enforces.")
        quotaKeyLabels = gauge("tollgate_agent_quota_key_labels", "Keys whose team and project the agent fills in from the aggregator's key labels.")
        quotaState = Dictionary(uniqueKeysWithValues: QuotaChannelHealth.State.allCases.map { state in
            (state, registry.makeGauge(name: "tollgate_agent_quota_state", labels: [("state", state.rawValue)],
                                       help: "1 for the quota channel's state: never_subscribed (no budgets received since start: nothing is enforced), enforcing, or stale."))
        })
        quotaState[.neverSubscribed]?.set(to: 1)
        quotaNoSnapshotWarnings = counter(
            "tollgate_agent_quota_no_snapshot_warnings_total", "Warnings logged because no quota snapshot arrived since the agent started.")

        // Shipping: from the ring through the spool to the aggregator's acknowledgement.
        eventsMetered = counter("tollgate_agent_events_metered_total", "Usage events taken from the ring by the shipper.")
        ringFullWaits = counter(
            "tollgate_agent_ring_full_waits_total", "Times a request waited for room in the full usage ring (nothing is dropped).")
        ringEvents = gauge("tollgate_agent_ring_events", "Usage events in the ring, not yet taken by the shipper (approximate).")
        batchesCut = counter("tollgate_agent_batches_cut_total", "Batches cut and spooled.")
        cellsCut = counter("tollgate_agent_cells_cut_total", "Usage cells (minute x dimensions) in cut batches.")
        pendingCells = gauge("tollgate_agent_pending_cells", "Usage cells accumulated since the last cut.")
        batchesSent = counter("tollgate_agent_batches_sent_total", "Batch sends to the aggregator, resends included.")
        batchesAcked = counter("tollgate_agent_batches_acked_total", "Batches the aggregator acknowledged.")
        batchesNacked = counter("tollgate_agent_batches_nacked_total", "Batches the aggregator refused.")
        batchesRefused = family(
            "tollgate_agent_batches_refused_total", "Batches the aggregator refused for good, by reason (identity, seq_too_far, state_behind).",
            "reason", BatchRefusal.allCases.map(\.metricReason))
        stateRenumbered = counter(
            "tollgate_agent_state_renumbered_total",
            "Times this agent found its state older than the aggregator's (a restored backup) and renumbered its unacknowledged usage above the aggregator's last seq.")
        badReplies = counter("tollgate_agent_bad_replies_total", "Replies from the aggregator that could not be read.")
        unackedBatches = gauge("tollgate_agent_unacked_batches", "Spooled batches awaiting the aggregator's acknowledgement.")
        reconnects = counter("tollgate_agent_reconnects_total", "Usage socket replacements after the aggregator stayed silent.")
        shipperFailures = counter("tollgate_agent_shipper_failures_total", "Times the shipper thread stopped on an error (usage stays spooled).")
        spoolBytes = gauge("tollgate_agent_spool_bytes", "Bytes on disk in the spool directory: segments and event logs.")
        spoolOverBound = gauge("tollgate_agent_spool_over_bound", "1 while the spool exceeds spool.max_bytes after merging, else 0.")
        spoolMerges = counter("tollgate_agent_spool_merges_total", "Merges of never-sent batches to bring the spool under spool.max_bytes.")
        spoolWriteErrors = counter("tollgate_agent_spool_write_errors_total", "Failed writes to the spool.")
        spoolCorruptBatches = counter(
            "tollgate_agent_spool_corrupt_batches_total", "Spooled batches that failed their checksum at start-up (renamed *.corrupt).")
        spoolTornRecords = counter(
            "tollgate_agent_spool_torn_records_total", "Torn records in the event logs or at a segment's end found at start-up.")
        spoolWritable = gauge("tollgate_agent_spool_writable", "1 while the spool takes writes, 0 while it refuses them (disk full, I/O error) or usage waits in memory.")
        spoolWritable.set(to: 1)
        spoolErrors = family(
            "tollgate_agent_spool_errors_total", "Failed spool operations, by operation.", "operation",
            SpoolHealth.Operation.allCases.map(\.rawValue))
        spoolHeldBytes = gauge(
            "tollgate_agent_spool_held_bytes", "Estimated memory holding usage that could not be written to the spool (bounded by spool.max_held_bytes).")
        usageDropped = counter(
            "tollgate_agent_usage_dropped_total", "Usage events dropped because the spool refused writes and spool.max_held_bytes was reached (spool.on_full: allow).")
        spoolSegments = gauge("tollgate_agent_spool_segments", "Segment files in the spool.")
        reportsSent = counter(
            "tollgate_agent_reports_sent_total", "Status reports sent to the aggregator for its fleet view (tollgate agents).")
    }

    /// Every family, in Prometheus' text format.
    public func exposition() -> String {
        registry.emitToString()
    }

    func requests(_ provider: Provider, _ endpoint: ProviderEndpoint) -> Counter {
        // Made above for every provider and endpoint, so the lookups cannot miss.
        requestsByRoute[provider]![endpoint]!
    }

    func requestDuration(_ provider: Provider?) -> ValueHistogram {
        provider.flatMap { durationByProvider[$0] } ?? durationUnrouted
    }

    /// Sets the quota state's series: 1 for `state`, 0 for the others.
    func setQuotaState(_ state: QuotaChannelHealth.State) {
        for (each, gauge) in quotaState { gauge.set(to: each == state ? 1 : 0) }
    }
}
