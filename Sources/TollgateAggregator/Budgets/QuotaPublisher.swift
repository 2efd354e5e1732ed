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
///
/// Every message is exact about our agents' own spend: it carries, per agent, the last
/// batch seq its `spent` values include (`watermarks`). A delta is the queued statuses
/// (the latest per budget) and the queued watermarks (the latest per agent): a status
/// queued after batch S of agent A includes S and everything committed before it, so
/// every budget A's batches touched up to its newest queued seq goes out at least that
/// new. A snapshot is read in one instant under the store's writer lock. Queued entries
/// are tagged with the store's generation, and those a published snapshot already covers
/// are dropped: otherwise a delta read before the snapshot but sent after it would take
/// spend back that the snapshot's watermarks already released on the agents.
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
    private var queuedStatuses: [String: (status: BudgetStatus, generation: UInt64)] = [:]
    private var queuedRemovals: [String: UInt64] = [:]
    private var queuedWatermarks: [String: (seq: UInt64, generation: UInt64)] = [:]
    /// The generation of the last snapshot published: older queued entries are in it.
    private var snapshotGeneration: UInt64 = 0

    /// `socket` is an XPUB, already secured and bound by the caller.
    init(socket: ZMQSocket, metrics: AggregatorMetrics, snapshotInterval: Duration, clock: ServiceClock = .system) throws {
        self.socket = socket
        self.metrics = metrics
        self.snapshotInterval = snapshotInterval
        self.clock = clock
        try socket.set(.xpubVerbose(true))
    }

    /// Queues a change for the next `service`; safe from any thread. A later status for
    /// the same budget, or watermark for the same agent, replaces an earlier one queued.
    func enqueue(_ update: BudgetUpdate) {
        queueLock.withLock {
            let generation = update.generation
            // Already in the last snapshot (or something newer is).
            guard generation == 0 || generation > snapshotGeneration else { return }
            for status in update.statuses where (queuedStatuses[status.budgetID]?.generation ?? 0) <= generation {
                queuedStatuses[status.budgetID] = (status, generation)
                queuedRemovals[status.budgetID] = nil
            }
            for id in update.removedBudgetIDs {
                queuedStatuses[id] = nil
                queuedRemovals[id] = generation
            }
            for (agentID, seq) in update.watermarks where (queuedWatermarks[agentID]?.seq ?? 0) < seq {
                queuedWatermarks[agentID] = (seq, generation)
            }
        }
    }

    /// Publishes what is queued, then a snapshot if one is due or an agent subscribed.
    /// `snapshot` reads every budget's status and every agent's watermark in one instant,
    /// or gives nil when it cannot (then no snapshot goes out, and the next turn tries again).
    func service(snapshot: () -> (statuses: [BudgetStatus], watermarks: [String: UInt64], generation: UInt64)?) {
        let (changed, removed, watermarks) = queueLock.withLock { () -> ([BudgetStatus], [String], [String: UInt64]) in
            defer {
                queuedStatuses = [:]
                queuedRemovals = [:]
                queuedWatermarks = [:]
            }
            return (queuedStatuses.values.map(\.status), Array(queuedRemovals.keys), queuedWatermarks.mapValues(\.seq))
        }
        if !changed.isEmpty || !removed.isEmpty || !watermarks.isEmpty {
            publish(budgets: changed.sorted { $0.budgetID < $1.budgetID }, removed: removed.sorted(), watermarks: watermarks, isSnapshot: false)
        }
        var subscribed = false
        while let frames = try? socket.receive() {
            // XPUB hands up subscriptions as frames starting with 1 (0 = unsubscribe).
            if frames.first?.first == 1 { subscribed = true }
        }
        let now = clock.now
        if subscribed { metrics.quotaSnapshotRequests.increment() }
        if subscribed || pendingSnapshot || nextSnapshot.map({ now >= $0 }) ?? true {
            guard let reading = snapshot() else {
                pendingSnapshot = true
                return
            }
            pendingSnapshot = false
            queueLock.withLock {
                snapshotGeneration = max(snapshotGeneration, reading.generation)
                queuedStatuses = queuedStatuses.filter { $0.value.generation > snapshotGeneration }
                queuedRemovals = queuedRemovals.filter { $0.value > snapshotGeneration }
                queuedWatermarks = queuedWatermarks.filter { $0.value.generation > snapshotGeneration }
            }
            publish(budgets: reading.statuses, removed: [], watermarks: reading.watermarks, isSnapshot: true)
            nextSnapshot = now.advanced(by: snapshotInterval)
        }
    }

    private func publish(budgets: [BudgetStatus], removed: [String], watermarks: [String: UInt64], isSnapshot: Bool) {
        version += 1
        let message = QuotaUpdateMessage(version: version, isSnapshot: isSnapshot, budgets: budgets, removedBudgetIDs: removed,
                                         issuedAtMilliseconds: clock.unixMilliseconds, watermarks: watermarks)
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
