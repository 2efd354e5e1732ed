import Foundation
import Logging
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs alerts as JSON to a webhook (Slack incoming webhooks read the `text` field), off
/// the ingest thread, retrying failures with exponential backoff a bounded number of times.
///
/// Delivery is best effort: an alert still being retried when the aggregator stops is lost
/// (its log line and metric are not).
public final class WebhookNotifier: @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var url: URL
        public var maxAttempts: Int
        /// Delay before the second attempt; doubled for each further one, capped at a minute.
        public var firstRetryDelay: Duration

        public init(url: URL, maxAttempts: Int = 5, firstRetryDelay: Duration = .seconds(1)) {
            self.url = url
            self.maxAttempts = maxAttempts
            self.firstRetryDelay = firstRetryDelay
        }
    }

    private let settings: Settings
    private let metrics: AggregatorMetrics
    private let logger: Logger
    private let session: URLSession
    private let queue = DispatchQueue(label: "tollgate-alert-webhook")
    private let idle = DispatchGroup()

    public init(settings: Settings, metrics: AggregatorMetrics, logger: Logger) {
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        session = URLSession(configuration: configuration)
    }

    /// Any alert body: a `BudgetAlert`, an anomaly's (`AnomalyAlert`).
    public func send<Alert: Encodable>(_ alert: Alert) {
        let body: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            body = try encoder.encode(alert)
        } catch {
            logger.error("cannot encode an alert for the webhook: \(error)")
            return
        }
        idle.enter()
        queue.async { self.attempt(body, number: 1) }
    }

    /// Blocks until every alert sent so far was delivered or given up on (tests, shutdown).
    public func waitUntilIdle(timeout: Duration) -> Bool {
        idle.wait(timeout: .now() + .milliseconds(Int(timeout.wholeMilliseconds))) == .success
    }

    /// How long to wait after failed attempt `number` (from 1): the first delay, doubled
    /// for each further attempt, capped at a minute.
    static func retryDelay(after number: Int, first: Duration) -> Duration {
        min(.seconds(60), first * (1 << min(number - 1, 20)))
    }

    private func attempt(_ body: Data, number: Int) {
        var request = URLRequest(url: settings.url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        session.dataTask(with: request) { [self] _, response, error in
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if error == nil && (200..<300).contains(status) {
                metrics.webhookDelivered.increment()
                idle.leave()
                return
            }
            metrics.webhookFailures.increment()
            let reason = error.map { "\($0.localizedDescription)" } ?? "HTTP \(status)"
            guard number < settings.maxAttempts else {
                metrics.webhookAbandoned.increment()
                logger.error("gave up on an alert webhook after \(number) attempts (alerts.max_attempts): \(reason)")
                idle.leave()
                return
            }
            let delay = Self.retryDelay(after: number, first: settings.firstRetryDelay)
            logger.warning("alert webhook attempt \(number) failed (\(reason)); retrying in \(delay)")
            // A dispatch timer, not a Task sleeping on a clock: callers that block on
            // `waitUntilIdle` may be holding every thread of the cooperative pool.
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(delay.wholeMilliseconds))) { self.attempt(body, number: number + 1) }
        }.resume()
    }
}
