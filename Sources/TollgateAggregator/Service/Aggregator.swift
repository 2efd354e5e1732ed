import Logging
import NIOPosix
import Prometheus
import TollgateCore

/// The running aggregator: usage ingest over ZeroMQ and the HTTP API over one store.
public final class Aggregator {
    private let config: AggregatorConfig
    private let logger: Logger
    private let metrics = AggregatorMetrics(registry: PrometheusCollectorRegistry())
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let store: UsageStore
    private let ingest: IngestServer
    private let api: APIServer
    /// Every budget's status; observe it to push quota state to agents.
    public let budgets: BudgetBoard

    public init(config: AggregatorConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        store = try UsageStore(directory: config.dataDirectory)
        var webhook: WebhookNotifier?
        if let url = config.alertWebhookURL {
            webhook = WebhookNotifier(settings: .init(url: url, maxAttempts: config.alertMaxAttempts), metrics: metrics, logger: logger)
        }
        budgets = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: logger, webhook: webhook))
        let token = try APIToken.loadOrCreate(file: config.apiTokenFile, dataDirectory: config.dataDirectory, logger: logger)
        ingest = IngestServer(
            endpoint: config.usageListen,
            quota: IngestServer.QuotaSettings(endpoint: config.quotaListen,
                                              snapshotInterval: Double(config.quotaSnapshotIntervalMilliseconds) / 1000),
            security: config.usageSecurity, store: store, budgets: budgets, metrics: metrics, logger: logger)
        api = APIServer(group: group, router: APIRouter(store: store, metrics: metrics, budgets: budgets, token: token))
    }

    /// Binds every listener; returns what was bound (ports resolved when 0 or `*`).
    @discardableResult
    public func start() throws -> (usage: String, quota: String, api: HostPort) {
        let bound = try ingest.start()
        let apiAddress = try api.start(at: config.apiListen)
        let quota = bound.quota ?? config.quotaListen
        logger.info("tollgate aggregator: usage on \(bound.usage), budgets published on \(quota), API on http://\(apiAddress), data in \(config.dataDirectory)")
        return (bound.usage, quota, apiAddress)
    }

    public func stop() {
        api.stop()
        ingest.stop()
        try? group.syncShutdownGracefully()
    }
}
