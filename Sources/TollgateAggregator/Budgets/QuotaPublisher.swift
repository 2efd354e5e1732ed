import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Pushes budget statuses to every agent on the quota channel (ZeroMQ XPUB): the budgets
/// that changed right after each commit, a full snapshot every `snapshotInterval`, and a
/// snapshot whenever an agent subscribes (which is how a new or lagging agent asks).
///
/// The socket belongs to the ingest thread, which calls `service` on every turn of its
/// loop; other threads (the HTTP API changing a budget) only `enqueue`. That split is what
/// makes it safe to share: `enqueue` takes `queueLock`, and nothing else runs off the
/// ingest thread.
final class QuotaPublisher: @unchecked Sendable {
    private let socket: ZMQSocket
    private let metrics: AggregatorMetrics
    private let snapshotInterval: Duration
    private let clock: ServiceClock
    private var version: UInt64 = 0
    /// Nil until the first snapshot, which goes out on the first turn.
    private var nextSnapshot: ServiceClock.Instant?
    /// A snapshot was due but could not be read.
    private var pendingSnapshot = false
    private let queueLock = NIOLock()
    private var queuedStatuses: [String: BudgetStatus] = [:]
    private var queuedRemovals: Set<String> = []

    /// `socket` is an XPUB, already secured and bound by the caller.
    init(socket: ZMQSocket, metrics: AggregatorMetrics, snapshotInterval: Duration, clock: ServiceClock = .system) throws {
        self.socket = socket
        self.metrics = metrics
        self.snapshotInterval = snapshotInterval
        self.clock = clock
        try socket.set(.xpubVerbose(true))
    }

    /// Statuses to publish on the next `service`; safe from any thread. A later status for
    /// the same budget replaces an earlier one still queued.
    func enqueue(changed: [BudgetStatus], removed: [String] = []) {
        queueLock.withLock {
            for status in changed {
                queuedStatuses[status.budgetID] = status
                queuedRemovals.remove(status.budgetID)
            }
            for id in removed {
                queuedStatuses[id] = nil
                queuedRemovals.insert(id)
            }
        }
    }

    /// Publishes what is queued, then a snapshot if one is due or an agent subscribed.
    /// `snapshot` gives every budget's current status, or nil when it cannot (then no
    /// snapshot goes out, and the next turn tries again).
    func service(snapshot: () -> [BudgetStatus]?) {
        let (changed, removed) = queueLock.withLock { () -> ([BudgetStatus], [String]) in
            defer {
                queuedStatuses = [:]
                queuedRemovals = []
            }
            return (Array(queuedStatuses.values), Array(queuedRemovals))
        }
        if !changed.isEmpty || !removed.isEmpty {
            publish(budgets: changed.sorted { $0.budgetID < $1.budgetID }, removed: removed.sorted(), isSnapshot: false)
        }
        var subscribed = false
        while let frames = try? socket.receive() {
            // XPUB hands up subscriptions as frames starting with 1 (0 = unsubscribe).
            if frames.first?.first == 1 { subscribed = true }
        }
        let now = clock.now
        if subscribed { metrics.quotaSnapshotRequests.increment() }
        if subscribed || pendingSnapshot || nextSnapshot.map({ now >= $0 }) ?? true {
            guard let statuses = snapshot() else {
                pendingSnapshot = true
                return
            }
            pendingSnapshot = false
            publish(budgets: statuses, removed: [], isSnapshot: true)
            nextSnapshot = now.advanced(by: snapshotInterval)
        }
    }

    private func publish(budgets: [BudgetStatus], removed: [String], isSnapshot: Bool) {
        version += 1
        let message = QuotaUpdateMessage(version: version, isSnapshot: isSnapshot, budgets: budgets, removedBudgetIDs: removed,
                                         issuedAtMilliseconds: clock.unixMilliseconds)
        do {
            // XPUB never blocks: a subscriber that cannot keep up loses messages, sees the
            // version gap and asks for a snapshot.
            try socket.send([try QuotaUpdateCodec.encode(message)])
            (isSnapshot ? metrics.quotaSnapshotsPublished : metrics.quotaUpdatesPublished).increment()
            metrics.quotaVersion.set(to: Double(version))
        } catch {
            metrics.quotaPublishErrors.increment()
        }
    }
}
