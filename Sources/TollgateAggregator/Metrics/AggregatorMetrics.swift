import Prometheus
import TollgateCore
import TollgateWire

/// Every metric family the aggregator exports at its API's `/metrics`, with its help text
/// and labels: the one list of what exists.
///
/// Handles are made once, here, from the registry passed in (one per aggregator, so tests
/// can run many in one process); a call site only increments, a relaxed atomic add. Every
/// series whose labels are known in advance exists from start at 0, so an operator's alert
/// on it works before the first event; only budget ids and alert levels are labels seen at
/// run time.
public final class AggregatorMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry

    // MARK: Ingest
    let batchesApplied: Counter
    let cellsApplied: Counter
    let batchesDuplicate: Counter
    let batchesGap: Counter
    let commitGroups: Counter
    let ingestRejected: CounterFamily
    let authRejected: Counter
    let storeErrors: Counter
    let socketErrors: Counter
    let allowlistErrors: Counter

    // MARK: Quota channel
    let quotaUpdatesPublished: Counter
    let quotaSnapshotsPublished: Counter
    let quotaSnapshotRequests: Counter
    let quotaSnapshotErrors: Counter
    let quotaPublishErrors: Counter
    let quotaVersion: Gauge
    let quotaSubscribers: Gauge
    let quotaBadSubscriptions: Counter
    let quotaUrgentUpdates: Counter
    let quotaFarUpdates: Counter
    let quotaUrgentPublish: DurationHistogram
    let ingestCommit: DurationHistogram

    // MARK: Budget alerts
    let budgetAlerts: CounterFamily
    let budgetAlertErrors: Counter
    let webhookDelivered: Counter
    let webhookFailures: Counter
    let webhookAbandoned: Counter

    // MARK: API
    let apiErrors: Counter
    let apiUnauthorized: CounterFamily
    let apiRejected: CounterFamily
    /// Audit entries written, by action (`budget.set`, `key.label`, …).
    let auditEntries: CounterFamily
    let auditWriteErrors: Counter

    // MARK: Fleet
    private let fleetAgentsByState: [AgentState: Gauge]
    let fleetReports: Counter
    let fleetReportsRejected: CounterFamily

    // MARK: Leases near the limit
    let leaseRequests: CounterFamily

    // MARK: History: rollups and retention
    let rollupCellsWritten: CounterFamily
    let rollupCompleteSeconds: GaugeFamily
    let rollupAccumulatedGroups: Gauge
    let rollupErrors: Counter
    let retentionDeletions: CounterFamily

    // MARK: Reconciliation with the providers' own reports
    let reconcileRuns: CounterFamily
    let reconcileDifference: GaugeFamily
    let reconcileDifferingRows: GaugeFamily

    // MARK: Spend, tokens and anomalies (budget and policy gauges are computed when scraped: `BudgetGauges`, `PolicyGauges`)
    /// `tollgate_spend_usd_total` and `tollgate_tokens_total`, fed by applied batches.
    let spend: SpendSeries
    let anomalyAlerts: CounterFamily
    let anomaliesActive: GaugeFamily
    let anomalyErrors: Counter

    /// `maxSpendSeries` bounds the (provider, model, team) label sets of the spend and token
    /// counters (`metrics.max_spend_series`).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), maxSpendSeries: Int = SpendSeries.defaultMaxSeries) {
        self.registry = registry
        spend = SpendSeries(maxSeries: maxSpendSeries)
        MetricsExposition.registerBuildInfo(in: registry, component: "aggregator")
        func counter(_ name: String, _ help: String) -> Counter { registry.makeCounter(descriptor: .named(name, help: help)) }

        // Ingest: usage batches from agents, committed to the store.
        batchesApplied = counter("tollgate_ingest_batches_applied_total", "Usage batches committed to the store.")
        cellsApplied = counter("tollgate_ingest_cells_applied_total", "Usage cells (minute x dimensions) committed to the store.")
        batchesDuplicate = counter(
            "tollgate_ingest_batches_duplicate_total", "Batches already applied (an agent's resend), acknowledged without counting.")
        batchesGap = counter(
            "tollgate_ingest_batches_gap_total", "Batches refused because an earlier batch of the same agent is missing.")
        commitGroups = counter(
            "tollgate_ingest_commit_groups_total", "Store commits, each one WAL fsync; batches applied / groups is how much one fsync is shared.")
        ingestRejected = CounterFamily(
            registry, name: "tollgate_ingest_rejected_total", help: "Usage messages refused, by reason: malformed input, or batches refused for good (identity, seq_too_far, state_behind).",
            labels: ["reason"], known: (WireError.reasons + BatchRefusal.allCases.map(\.metricReason) + ["unauthenticated", "unknown"]).map { [$0] })
        authRejected = counter("tollgate_ingest_auth_rejected_total", "Connections refused by the CurveZMQ allowlist.")
        storeErrors = counter("tollgate_ingest_store_errors_total", "Batches the store failed to commit (nacked; the agent resends).")
        socketErrors = counter("tollgate_ingest_socket_errors_total", "Errors on the ingest sockets.")
        allowlistErrors = counter("tollgate_ingest_allowlist_errors_total", "Failed reloads of the authorized agent keys directory.")

        // Quota channel: budget statuses pushed to agents.
        quotaUpdatesPublished = counter("tollgate_quota_updates_published_total", "Quota updates (changed budgets) published to agents.")
        quotaSnapshotsPublished = counter("tollgate_quota_snapshots_published_total", "Full quota snapshots sent (each to the one agent that asked, or to all).")
        quotaSnapshotRequests = counter(
            "tollgate_quota_snapshot_requests_total", "Agent subscriptions, each answered with a snapshot.")
        quotaSubscribers = registry.makeGauge(descriptor: .named(
            "tollgate_quota_subscribers", help: "Agents subscribed to their own quota topic (agents from before topics not counted)."))
        quotaBadSubscriptions = counter(
            "tollgate_quota_bad_subscriptions_total", "Quota channel subscriptions to a topic no agent uses (ignored; an agent of another protocol?).")
        quotaUrgentUpdates = counter(
            "tollgate_quota_urgent_updates_total", "Quota updates sent at once, not merged over the window, because a budget changed what agents decide.")
        quotaFarUpdates = counter(
            "tollgate_quota_far_updates_total",
            "Quota updates that waited quota_far_spend_ms, not the window: they only moved spend of budgets far from their line.")
        quotaUrgentPublish = registry.makeDurationHistogram(
            descriptor: .named("tollgate_quota_urgent_publish_seconds",
                               help: "From a change in what agents decide (a cap crossed) being queued to its broadcast handed to ZeroMQ for every subscriber, in seconds: the aggregator's own share of cap-to-blocked (encryption and writes follow on the I/O threads)."),
            buckets: [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        ingestCommit = registry.makeDurationHistogram(
            descriptor: .named("tollgate_ingest_commit_seconds",
                               help: "Committing one group of usage batches to the store (WAL fsync included), in seconds: how long an agent's batch waits for its ack once decoded."),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        quotaSnapshotErrors = counter("tollgate_quota_snapshot_errors_total", "Snapshots not sent because budget statuses could not be read.")
        quotaPublishErrors = counter("tollgate_quota_publish_errors_total", "Quota messages that failed to send.")
        quotaVersion = registry.makeGauge(descriptor: .named("tollgate_quota_version", help: "Version of the last quota message published."))

        // Budget alerts: thresholds crossed, and their webhook.
        budgetAlerts = CounterFamily(
            registry, name: "tollgate_budget_alerts_total",
            help: "Budget alerts fired, by budget and level (percent of the limit).", labels: ["budget", "level"])
        budgetAlertErrors = counter("tollgate_budget_alert_errors_total", "Alerts that could not be recorded, so were not sent.")
        webhookDelivered = counter("tollgate_alert_webhook_delivered_total", "Alert webhook POSTs delivered.")
        webhookFailures = counter("tollgate_alert_webhook_failures_total", "Alert webhook attempts that failed (retried up to alerts.max_attempts).")
        webhookAbandoned = counter("tollgate_alert_webhook_abandoned_total", "Alerts whose webhook was given up on after alerts.max_attempts.")

        // API.
        apiErrors = counter("tollgate_api_errors_total", "API requests that failed on the server's side (500).")
        apiUnauthorized = CounterFamily(
            registry, name: "tollgate_api_unauthorized_total", help: "API requests refused (401) for a missing or wrong bearer token.",
            labels: ["reason"], known: UnauthorizedRequests.Reason.allCases.map { [$0.rawValue] })
        apiRejected = CounterFamily(
            registry, name: "tollgate_api_rejected_total", help: "API requests refused as invalid (400), by reason.",
            labels: ["reason"], known: [["unknown_model"], ["invalid_budget"], ["repeated_parameter"], ["bad_suggestion"], ["invalid_key_label"], ["unknown_key"], ["bad_time_range"],
                                                  ["invalid_policy"], ["unknown_policy"], ["budget_in_use"]]
                + UsageQueryError.Reason.allCases.map { [$0.rawValue] })
        auditEntries = CounterFamily(
            registry, name: "tollgate_audit_entries_total", help: "Changes recorded in the audit log, by action.",
            labels: ["action"], known: [["budget.set"], ["budget.remove"], ["budget.exempt"], ["key.label"], ["key.unlabel"],
                                                     ["policy.set"], ["policy.remove"], ["policy.except"], ["policy.unexcept"]])
        auditWriteErrors = counter("tollgate_audit_write_errors_total", "Changes made but not recorded in the audit log (the log line names them).")

        // Fleet: the agents that have connected, from their reports and batches.
        fleetAgentsByState = Dictionary(uniqueKeysWithValues: AgentState.allCases.map { state in
            (state, registry.makeGauge(
                descriptor: .named("tollgate_fleet_agents", help: "Agents known to the aggregator, by state (enforcing, stale, never_subscribed, unknown, offline)."),
                labels: [("state", state.rawValue)]))
        })
        fleetReports = counter("tollgate_fleet_reports_total", "Agent status reports received and recorded.")
        fleetReportsRejected = CounterFamily(
            registry, name: "tollgate_fleet_reports_rejected_total", help: "Agent status reports refused, by reason.",
            labels: ["reason"], known: (AgentReportError.reasons + ["registry_full", "identity"]).map { [$0] })

        // Leases: slices of a nearly spent budget's remainder granted to agents.
        leaseRequests = CounterFamily(
            registry, name: "tollgate_lease_requests_total",
            help: "Agents' lease requests, by outcome: granted, released, or why refused (unknown_agent, not_leased, no_remainder, stale_window, unknown_lease).",
            labels: ["outcome"], known: (["granted", "released"] + LeaseGrantMessage.Refusal.allCases.map(\.rawValue)).map { [$0] })

        // History: hour and day rollups of the minute cells, and retention per granularity.
        rollupCellsWritten = CounterFamily(
            registry, name: "tollgate_rollup_cells_written_total",
            help: "Hour and day rollup cells written as hours and days complete (late minutes merged at ingest not included).",
            labels: ["granularity"], known: [["hour"], ["day"]])
        rollupCompleteSeconds = GaugeFamily(
            registry, name: "tollgate_rollup_complete_seconds",
            help: "Unix time before which hour (or day) rollups hold every minute; queries past it read finer cells. Lagging far behind now means the builder is stuck.",
            label: "granularity", known: ["hour", "day"])
        rollupAccumulatedGroups = registry.makeGauge(descriptor: .named(
            "tollgate_rollup_accumulated_groups",
            help: "(hour, dimensions) and (day, dimensions) sums held in memory until their hour or day completes: what the rollups cost in memory."))
        rollupErrors = counter("tollgate_rollup_errors_total", "Failed rollup builds or retention passes (queries stay exact, from finer cells).")
        retentionDeletions = CounterFamily(
            registry, name: "tollgate_retention_deletions_total",
            help: "Retention passes that deleted cells older than the configured retention, by granularity.",
            labels: ["granularity"], known: [["minute"], ["hour"], ["day"]])

        // Reconciliation: each provider's admin usage and cost reports against what was metered.
        let reconcileProviders = ReconcileProvider.allCases.map(\.rawValue)
        reconcileRuns = CounterFamily(
            registry, name: "tollgate_reconcile_runs_total",
            help: "Reconciliations with a provider's own reports, by outcome: match, differs, auth_error, http_error, malformed.",
            labels: ["provider", "outcome"],
            known: reconcileProviders.flatMap { provider in ["match", "differs", "auth_error", "http_error", "malformed"].map { [provider, $0] } })
        reconcileDifference = GaugeFamily(
            registry, name: "tollgate_reconcile_difference_nanodollars",
            help: "Sum over the last reconciliation's rows of |Tollgate cost - provider cost|, in nanodollars.",
            label: "provider", known: reconcileProviders)
        reconcileDifferingRows = GaugeFamily(
            registry, name: "tollgate_reconcile_differing_rows",
            help: "Rows of the last reconciliation that are not a match (differs or missing on one side).",
            label: "provider", known: reconcileProviders)

        // Anomalies: a scope's spend today against its 7-day normal at the same time of day.
        let scopes = AnomalyScope.allCases.map(\.rawValue)
        anomalyAlerts = CounterFamily(
            registry, name: "tollgate_anomaly_alerts_total",
            help: "Spend anomaly alerts fired (once per scope value and UTC day), by scope kind: team, key, use_case, env.",
            labels: ["scope"], known: scopes.map { [$0] })
        anomaliesActive = GaugeFamily(
            registry, name: "tollgate_anomalies_active",
            help: "Scope values whose spend today is at or above anomalies.ratio times their 7-day normal (and anomalies.min_spend_usd), at the last evaluation, by scope kind.",
            label: "scope", known: scopes)
        anomalyErrors = counter("tollgate_anomaly_errors_total", "Anomaly evaluations or alert records that failed (the store could not be read or written).")
    }

    /// What a leased budget's slices may still bring (granted and unreflected, less what
    /// their agents' batches have brought since), in the budget unit's measure.
    func leaseOutstanding(_ budgetID: String) -> Gauge {
        registry.makeGauge(descriptor: .named("tollgate_lease_outstanding", help: "Per budget: what its lease slices may still add to spent, in the unit's measure (nanodollars, tokens, requests)."),
                           labels: [("budget", budgetID)])
    }

    func fleetAgents(_ state: AgentState) -> Gauge {
        // Made above for every state, so the lookup cannot miss.
        fleetAgentsByState[state]!
    }

    /// Every family, in Prometheus' text format.
    public func exposition() -> String {
        registry.emitToString() + spend.exposition()
    }
}
