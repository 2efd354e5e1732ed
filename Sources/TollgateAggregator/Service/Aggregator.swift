import Logging
import NIOPosix
import Prometheus
import ServiceLifecycle
import TollgateCore

/// The running aggregator: usage ingest over ZeroMQ and the HTTP API over one store.
///
/// Run it in a `ServiceGroup` (`tollgate serve` does, with SIGTERM and SIGINT as its
/// graceful-shutdown signals), or drive it with `start()` and `stop()`. Shutdown closes the
/// API, then ingest (batches already received still commit and are acknowledged), then
/// the store.
///
/// `@unchecked Sendable`: `APIServer` keeps its channel in a `var` that `start` sets and
/// `stop` clears, and nobody runs those two at once.
public final class Aggregator: Service, @unchecked Sendable {
    private let config: AggregatorConfig
    private let logger: Logger
    private let metrics: AggregatorMetrics
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let store: UsageStore
    private let ingest: IngestServer
    private let api: APIServer
    /// Builds rollups and applies retention once a minute.
    private let history: RollupMaintainer
    /// Every budget's status; observe it to push quota state to agents.
    public let budgets: BudgetBoard
    /// Every agent that has connected: `GET /v1/agents`.
    let fleet: FleetRegistry
    /// Spend today against the 7-day normal, checked every `anomalies.interval_ms`.
    public let anomalies: AnomalyMonitor

    /// `clock` decides budget windows and quota snapshots.
    public init(config: AggregatorConfig, logger: Logger, clock: ServiceClock = .system) throws {
        self.config = config
        self.logger = logger
        metrics = AggregatorMetrics(registry: PrometheusCollectorRegistry(), maxSpendSeries: config.maxSpendSeries)
        store = try UsageStore(directory: config.dataDirectory, maxSeqAdvance: config.maxSeqAdvance)
        var webhook: WebhookNotifier?
        if let url = config.alertWebhookURL {
            webhook = WebhookNotifier(settings: .init(url: url, maxAttempts: config.alertMaxAttempts), metrics: metrics, logger: logger)
        }
        let fleet = try FleetRegistry(store: store, metrics: metrics, logger: logger, clock: clock)
        self.fleet = fleet
        let leases = LeaseDesk(settings: LeaseLedger.Settings(enabled: config.leases.enabled, ttl: config.leases.ttl, horizon: config.leases.horizon),
                               clock: clock, metrics: metrics, logger: logger,
                               isKnownAgent: { fleet.knows(agentID: $0, keyName: $1) }, activeAgents: { fleet.onlineCount() },
                               pauseAfterStart: !fleet.agents().isEmpty)
        budgets = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: logger, webhook: webhook), clock: clock, leases: leases)
        let models = try budgets.resolveStoredModels(with: config.models)
        if !models.rewritten.isEmpty {
            logger.notice("budgets now name their canonical model (current window recounted): \(models.rewritten.joined(separator: ", "))")
        }
        if !models.unknown.isEmpty {
            logger.warning("budgets name a model the price catalog does not know, so they match only that exact name: \(models.unknown.joined(separator: ", ")); declare it under pricing.catalog")
        }
        let token = try APIToken.loadOrCreate(file: config.apiTokenFile, dataDirectory: config.dataDirectory, logger: logger)
        let readToken = try APIToken.loadOrCreate(file: config.apiReadTokenFile, dataDirectory: config.dataDirectory, kind: .read, logger: logger)
        let keys = try KeyLabelBook(store: store)
        let audit = AuditLog(store: store, clock: clock, metrics: metrics, logger: logger)
        let policies = try PolicyBook(store: store, catalog: config.models, clock: clock)
        for (id, reason) in policies.invalidPolicies() {
            logger.warning("stored policy \(id) no longer passes validation, and agents may refuse it: \(reason); fix it with tollgate policy set")
        }
        ingest = try IngestServer(
            endpoint: config.usageListen,
            quota: IngestServer.QuotaSettings(endpoint: config.quotaListen, snapshotInterval: config.quotaSnapshotInterval,
                                              coalesceWindow: config.quotaCoalesceWindow, maxFanoutPerSecond: config.quotaMaxFanoutPerSecond,
                                              farSpendInterval: config.quotaFarSpendInterval),
            security: config.usageSecurity, store: store, budgets: budgets, fleet: fleet, metrics: metrics, logger: logger, clock: clock,
            ioThreads: config.zmqIOThreads, keyLabels: keys, policies: policies)
        history = RollupMaintainer(store: store, retention: config.retention, metrics: metrics, logger: logger, clock: clock)
        let reconciler = config.reconcile.sources.isEmpty ? nil : Reconciler(settings: config.reconcile, store: store, metrics: metrics)
        anomalies = AnomalyMonitor(settings: config.anomalies, store: store, metrics: metrics, logger: logger, webhook: webhook, clock: clock)
        var router = APIRouter(store: store, metrics: metrics, budgets: budgets, token: token, fleet: fleet,
                               clock: clock, models: config.models, reconciler: reconciler,
                               readToken: readToken, keys: keys, audit: audit, logger: logger)
        router.anomalies = anomalies
        router.policies = policies
        api = APIServer(group: group, router: router)
    }

    /// Binds every listener; returns what was bound (ports resolved when 0 or `*`).
    @discardableResult
    public func start() throws -> (usage: String, quota: String, api: HostPort) {
        let bound = try ingest.start()
        let apiAddress = try api.start(at: config.apiListen)
        anomalies.start()
        history.start()
        let quota = bound.quota ?? config.quotaListen
        logger.info("tollgate aggregator: usage on \(bound.usage), budgets published on \(quota), API on http://\(apiAddress), data in \(config.dataDirectory)")
        return (bound.usage, quota, apiAddress)
    }

    /// `Service`: starts, runs until the group shuts down gracefully (a signal) or is
    /// cancelled, then stops.
    public func run() async throws {
        do {
            try start()
        } catch {
            await stopInOrder()  // ingest may be up though the API could not bind
            throw error
        }
        try? await gracefulShutdown()
        logger.info("shutting down: committing the batches received, then closing")
        await stopInOrder()
    }

    private func stopInOrder() async {
        anomalies.stop()
        api.stop()
        await ingest.stop()
        history.stop()
        try? await group.shutdownGracefully()
        store.close()
    }

    /// Closes the API, then ingest (batches received still commit), then the store; blocks
    /// until all are done.
    public func stop() {
        anomalies.stop()
        api.stop()
        ingest.stopAndWait()
        history.stop()
        try? group.syncShutdownGracefully()
        store.close()
    }
}
