import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore

/// Keeps the store's history in shape on a thread of its own: once a minute it completes
/// the hour and day rollups that are due from what ingest accumulated (`UsageStore.rollUp`;
/// on the first pass after a start, that includes the minutes since the last complete
/// hour, or the one-time backfill of an old data directory) and applies retention.
final class RollupMaintainer: @unchecked Sendable {
    private let store: UsageStore
    private let retention: RetentionPolicy
    private let metrics: AggregatorMetrics
    private let logger: Logger
    private let clock: ServiceClock
    private let interval: TimeInterval
    private let stopping = NIOLockedValueBox(false)
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var thread: Thread?

    init(store: UsageStore, retention: RetentionPolicy, metrics: AggregatorMetrics, logger: Logger, clock: ServiceClock,
         interval: TimeInterval = 60) {
        self.store = store
        self.retention = retention
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.interval = interval
    }

    func start() {
        let thread = Thread { [self] in
            while !stopping.withLockedValue({ $0 }) {
                runOnce()
                _ = wake.wait(timeout: .now() + interval)
            }
            done.signal()
        }
        thread.name = "tollgate-rollups"
        self.thread = thread
        thread.start()
    }

    /// Stops after the hour being built, if any; blocks until the thread is done.
    func stop() {
        guard thread != nil else { return }
        stopping.withLockedValue { $0 = true }
        wake.signal()
        done.wait()
        thread = nil
    }

    func runOnce() {
        let now = clock.unixSeconds
        do {
            let progress = try store.rollUp(now: now, shouldStop: { stopping.withLockedValue { $0 } })
            metrics.rollupCellsWritten("hour").increment(by: Int64(progress.hourCellsWritten))
            metrics.rollupCellsWritten("day").increment(by: Int64(progress.dayCellsWritten))
            metrics.rollupAccumulatedGroups.set(to: Double(progress.accumulatedGroups))
            if let hours = progress.hoursCompleteBefore { metrics.rollupCompleteSeconds("hour").set(Double(hours * 60)) }
            if let days = progress.daysCompleteBefore { metrics.rollupCompleteSeconds("day").set(Double(days * 60)) }
            if progress.hoursBuilt > 24 {
                logger.notice("rolled up \(progress.hoursBuilt) hours of usage (backfill of history from before rollups, or after downtime)")
            }
        } catch {
            metrics.rollupErrors.increment()
            logger.error("\(error)")
        }
        do {
            let dropped = try store.enforceRetention(retention, now: now)
            for (granularity, horizon) in [("minute", dropped.minutesKeptFrom), ("hour", dropped.hoursKeptFrom), ("day", dropped.daysKeptFrom)] {
                guard let horizon else { continue }
                metrics.retentionDeletions(granularity).increment()
                logger.info("retention: \(granularity) cells before \(CivilDate.rfc3339(minute: horizon)) deleted")
            }
        } catch {
            metrics.rollupErrors.increment()
            logger.error("applying retention failed: \(error)")
        }
    }
}
