import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore

/// Checks every `anomalies.interval_ms` which scope values spend abnormally today
/// (`AnomalyDetector`), keeps `tollgate_anomalies_active` current, and alerts once per scope
/// value and UTC day: a log line, `tollgate_anomaly_alerts_total{scope}` and the webhook.
///
/// "Once per day" survives restarts: each alert is marked in the store beside budget
/// alerts, under a name no budget id can take (`anomaly:` has a colon, which ids refuse).
///
/// `@unchecked Sendable`: the fired-alert cache and the task are behind a lock; evaluations
/// run one at a time on their own queue, off Swift's cooperative pool (RocksDB scans block).
public final class AnomalyMonitor: @unchecked Sendable {
    let settings: AnomalySettings
    private let store: UsageStore
    private let metrics: AggregatorMetrics
    private let logger: Logger
    private let webhook: WebhookNotifier?
    private let clock: ServiceClock
    private let queue = DispatchQueue(label: "tollgate-anomalies")
    private let lock = NIOLock()
    private var fired: Set<String> = []
    private var task: Task<Void, Never>?

    public init(settings: AnomalySettings, store: UsageStore, metrics: AggregatorMetrics, logger: Logger,
                webhook: WebhookNotifier? = nil, clock: ServiceClock = .system) {
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.webhook = webhook
        self.clock = clock
    }

    var detector: AnomalyDetector { AnomalyDetector(ratio: settings.ratio, minSpend: settings.minSpend) }

    /// The anomalies as of now, without alerting (`GET /v1/anomalies`).
    public func report() throws -> AnomalyReport {
        let now = clock.unixSeconds
        let anomalies = try detector.read(store, now: now)
        return AnomalyReport(asOf: now, day: AnomalyDetector.windows(now: now).day, ratio: settings.ratio,
                             minSpendUSD: settings.minSpend.decimalUSD, anomalies: anomalies)
    }

    /// One check: updates the gauges and fires what has not fired today. Returns the
    /// anomalies found, or nil when the store could not be read.
    @discardableResult
    public func evaluate() -> [Anomaly]? {
        let anomalies: [Anomaly]
        do {
            anomalies = try report().anomalies
        } catch {
            metrics.anomalyErrors.increment()
            logger.error("could not evaluate spend anomalies: \(error)")
            return nil
        }
        for scope in AnomalyScope.allCases {
            metrics.anomaliesActive(scope.rawValue).set(to: Double(anomalies.count { $0.scope == scope }))
        }
        for anomaly in anomalies { fireOnce(anomaly) }
        return anomalies
    }

    /// Runs `evaluate` every interval until `stop`; nothing when `anomalies.enabled` is false.
    public func start() {
        guard settings.enabled else { return }
        let clock = clock
        let interval = settings.interval
        let queue = queue
        let task = Task { [weak self] in
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
                guard let self else { return }
                await withCheckedContinuation { done in
                    queue.async {
                        self.evaluate()
                        done.resume()
                    }
                }
            }
        }
        lock.withLock { self.task = task }
    }

    /// Stops the periodic check and waits for one in progress (the store closes next).
    public func stop() {
        let task = lock.withLock { () -> Task<Void, Never>? in
            defer { self.task = nil }
            return self.task
        }
        task?.cancel()
        queue.sync {}
    }

    private func fireOnce(_ anomaly: Anomaly) {
        let mark = "anomaly:\(anomaly.scope.rawValue):\(anomaly.value)"
        let cacheKey = "\(mark)@\(anomaly.day)"
        if lock.withLock({ fired.contains(cacheKey) }) { return }
        let first: Bool
        do {
            first = try store.markAlertFired(budgetID: mark, windowStart: anomaly.day, level: 0, at: anomaly.asOf)
        } catch {
            metrics.anomalyErrors.increment()
            logger.error("could not record a spend anomaly alert for \(anomaly.scope.rawValue) \(anomaly.value): \(error)")
            return
        }
        lock.withLock {
            // A day's marks are enough; earlier days' can go.
            if fired.count > 100_000 { fired.removeAll() }
            fired.insert(cacheKey)
        }
        guard first else { return }
        metrics.anomalyAlerts(anomaly.scope.rawValue).increment()
        logger.warning("\(anomaly.text)", metadata: ["scope": "\(anomaly.scope.rawValue)", "value": "\(anomaly.value)"])
        webhook?.send(AnomalyAlert(anomaly))
    }
}

/// The webhook body of an anomaly: Slack-compatible `text`, `kind: "anomaly"`, and the
/// anomaly's fields (`Anomaly`'s JSON) under `anomaly`.
struct AnomalyAlert: Encodable {
    var anomaly: Anomaly

    init(_ anomaly: Anomaly) {
        self.anomaly = anomaly
    }

    enum CodingKeys: String, CodingKey {
        case text, kind, anomaly
        case firedAt = "fired_at"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(anomaly.text, forKey: .text)
        try container.encode("anomaly", forKey: .kind)
        try container.encode(anomaly, forKey: .anomaly)
        try container.encode(anomaly.asOf, forKey: .firedAt)
    }
}
