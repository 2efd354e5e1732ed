import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Pushes budget statuses to agents on the quota channel (ZeroMQ XPUB, topics in
/// `QuotaTopic`): changes merged into one delta per window (`QuotaDeltaQueue`; at once when
/// one changes what agents decide), a refresh from a full store reading every
/// `refreshInterval` (`QuotaMirror.refresh`: in the steady state an empty heartbeat), and a
/// snapshot to each agent that subscribes to its own topic, sent to that agent alone, which
/// is how a new or lagging agent asks. Connecting N agents thus costs N snapshots, not N².
///
/// Watermarks go to each agent alone too: a broadcast names none, and each agent it would
/// have named gets its own watermark on its own topic just before it (a "companion" of the
/// same version, which the agent applies together with the broadcast:
/// `QuotaMessageAssembler`). Broadcasting them would make every agent decode every other
/// agent's: at 5,000 agents each shipping a batch a second, 25 million entries a second.
/// While an agent from before topics is subscribed (to everything, so it would not see a
/// companion as its own), broadcasts carry every watermark as they used to.
///
/// The socket belongs to the ingest thread, which calls `service` on every turn of its
/// loop; other threads (the commit thread, the HTTP API changing a budget) only `enqueue`.
/// That split is what makes it safe to share: `enqueue` and `service` meet under `lock`,
/// and the socket is touched only by `service`.
final class QuotaPublisher: @unchecked Sendable {
    struct Settings: Sendable {
        /// How often every status is re-read from the store and what differs republished.
        var refreshInterval: Duration
        /// The longest a change that only moves spend waits to be merged with others.
        var coalesceWindow = Duration.milliseconds(20)
        /// Spend-only deltas are spaced so that at most this many reach subscribers per
        /// second in all: with 5,000 agents, one per 500 ms; up to 200, one per window.
        var maxFanoutPerSecond = 10_000
        /// How long spend-only changes wait when every budget they move is far from its line
        /// (`LeaseLedger.isFarFromLine`); zero sends them at the window like the rest.
        var farSpendInterval = Duration.seconds(2)
    }

    private let socket: ZMQSocket
    private let metrics: AggregatorMetrics
    private let settings: Settings
    private let clock: ServiceClock
    /// Says which budgets are far from their line, and hears which watermarks went out (so
    /// its ledgers forget batches agents have seen counted). Nil: every budget is near.
    private let leases: LeaseDesk?
    /// Called (from the enqueuing thread) when a change must go out now, to end the
    /// ingest thread's poll rather than wait for its timeout.
    private let wake: @Sendable () -> Void
    private let lock = NIOLock()
    private var queue = QuotaDeltaQueue()
    private var mirror = QuotaMirror()
    /// Nil until the first refresh, which goes out on the first turn.
    private var nextRefresh: ServiceClock.Instant?
    /// A refresh was due but the store could not be read.
    private var pendingRefresh = false
    /// Agents whose snapshot waits for the first reading.
    private var waitingSnapshots: Set<String> = []
    /// Agents subscribed to their own topic: how many receive every broadcast.
    private var subscribers: Set<String> = []
    /// An agent from before topics is subscribed: broadcasts carry every watermark.
    private var legacySubscribed = false
    /// Key labels to bring agents to on the next turn (after the first reading).
    private var pendingKeyLabels: [KeyLabel]?
    /// Policies to bring agents to on the next turn (after the first reading).
    private var pendingPolicies: [Policy]?

    /// `socket` is an XPUB, already secured and bound by the caller.
    init(socket: ZMQSocket, metrics: AggregatorMetrics, settings: Settings, clock: ServiceClock = .system, leases: LeaseDesk? = nil,
         wake: @escaping @Sendable () -> Void = {}) throws {
        self.socket = socket
        self.leases = leases
        self.metrics = metrics
        self.settings = settings
        self.clock = clock
        self.wake = wake
        try socket.set(.xpubVerbose(true))
    }

    /// Queues a change for the next `service`; safe from any thread.
    func enqueue(_ update: BudgetUpdate) {
        let now = clock.now
        // Asked before taking the lock: the desk has its own.
        var far = Set<String>()
        if let leases, settings.farSpendInterval > .zero {
            for status in update.statuses where leases.isFarFromLine(budgetID: status.budgetID, lag: settings.farSpendInterval) {
                far.insert(status.budgetID)
            }
        }
        let becameUrgent = lock.withLock {
            queue.add(update, at: now, held: { mirror.statuses[$0] }, isNear: { !far.contains($0.budgetID) })
        }
        if becameUrgent { wake() }
    }

    /// Sends agents `labels` (key → team/project) on the next turn; safe from any thread.
    func setKeyLabels(_ labels: [KeyLabel]) {
        lock.withLock { pendingKeyLabels = labels }
        wake()
    }

    /// Sends agents `policies` (every one) on the next turn, as a delta of what changed;
    /// safe from any thread. Wakes the ingest thread: a policy change is as urgent as a budget's.
    func setPolicies(_ policies: [Policy]) {
        lock.withLock { pendingPolicies = policies }
        wake()
    }

    /// The window spend-only changes wait for now: longer with more subscribers.
    var window: Duration {
        let count = lock.withLock { subscribers.count }
        let spaced = Duration.seconds(Double(count) / Double(max(1, settings.maxFanoutPerSecond)))
        return max(settings.coalesceWindow, spaced)
    }

    /// How long the ingest thread may wait before the next `service` is needed.
    func millisecondsUntilDue(atMost limit: Int) -> Int {
        let window = window
        let now = clock.now
        // A reading that failed is retried at the loop's own pace, not in a spin; so is a
        // queue that cannot go out before the first reading.
        guard !pendingRefresh else { return limit }
        var deadlines = [nextRefresh ?? now]
        if let due = lock.withLock({ mirror.isLoaded ? queue.deadline(window: window, farWindow: settings.farSpendInterval) : nil }) {
            deadlines.append(due)
        }
        guard let first = deadlines.min() else { return limit }
        let wait = now.duration(to: first)
        guard wait > .zero else { return 0 }
        return min(limit, Int((wait / .milliseconds(1)).rounded(.up)))
    }

    /// Publishes the merged delta if due, a refresh if due, and the snapshots subscribers
    /// asked for. `read` gives every budget's status and every agent's watermark in one
    /// instant, or nil when it cannot (then nothing is refreshed, and the next turn tries again).
    func service(read: () -> (statuses: [BudgetStatus], watermarks: [String: UInt64], generation: UInt64)?) {
        let (asked, legacy) = receiveSubscriptions()
        let now = clock.now
        let window = window
        let delta: (message: QuotaUpdateMessage, urgentSince: ServiceClock.Instant?, far: Bool)? = lock.withLock {
            guard mirror.isLoaded, queue.isDue(at: now, window: window, farWindow: settings.farSpendInterval) else { return nil }
            let urgentSince = queue.isUrgent ? queue.urgentSince ?? now : nil
            let far = !queue.isUrgent && !queue.hasNear && settings.farSpendInterval > window
            return (mirror.publish(queue.take(), issuedAt: clock.unixMilliseconds), urgentSince, far)
        }
        if let delta {
            broadcast(delta.message)
            if delta.far { metrics.quotaFarUpdates.increment() }
            if let since = delta.urgentSince {
                metrics.quotaUrgentUpdates.increment()
                metrics.quotaUrgentPublish.recordNanoseconds(Int64(since.duration(to: clock.now) / .nanoseconds(1)))
            }
        }
        if pendingRefresh || nextRefresh.map({ now >= $0 }) ?? true {
            refresh(read, at: now)
        }
        let labels: QuotaUpdateMessage? = lock.withLock {
            guard mirror.isLoaded, let pending = pendingKeyLabels else { return nil }
            pendingKeyLabels = nil
            return mirror.publishKeyLabels(pending, issuedAt: clock.unixMilliseconds)
        }
        if let labels { broadcast(labels) }
        let policies: QuotaUpdateMessage? = lock.withLock {
            guard mirror.isLoaded, let pending = pendingPolicies else { return nil }
            pendingPolicies = nil
            return mirror.publishPolicies(pending, issuedAt: clock.unixMilliseconds)
        }
        if let policies { broadcast(policies) }
        guard lock.withLock({ mirror.isLoaded }) else {
            waitingSnapshots.formUnion(asked)
            return
        }
        if legacy {
            broadcast(lock.withLock { mirror.broadcastSnapshot(issuedAt: clock.unixMilliseconds) })
        }
        // After the delta above: a snapshot then carries everything the queue held, and the
        // next delta follows it in the subscriber's pipe.
        for agentID in asked.union(waitingSnapshots) {
            send(lock.withLock { mirror.snapshot(for: agentID, issuedAt: clock.unixMilliseconds) }, to: .agent(agentID))
        }
        waitingSnapshots = []
    }

    /// The agents that asked for a snapshot since the last turn, and whether a subscriber to
    /// the whole channel (an agent from before topics) did.
    private func receiveSubscriptions() -> (agents: Set<String>, legacy: Bool) {
        var asked = Set<String>()
        var legacy = false
        var heard = false
        while let frames = try? socket.receive() {
            heard = true
            // XPUB hands up subscriptions as a frame: 1 (or 0 to unsubscribe), then the topic.
            guard let frame = frames.first, let flag = frame.first else { continue }
            switch QuotaTopic(subscription: frame.dropFirst()) {
            case .agent(let id):
                lock.withLock {
                    if flag == 1 { subscribers.insert(id) } else { subscribers.remove(id) }
                }
                if flag == 1 { asked.insert(id) }
            case .everything:
                // Unsubscribing from everything is passed up only when the last such agent goes.
                legacySubscribed = flag == 1
                if flag == 1 { legacy = true }
            case .broadcast:
                break
            case nil:
                if flag == 1 { metrics.quotaBadSubscriptions.increment() }
            }
        }
        if heard { metrics.quotaSubscribers.set(to: Double(lock.withLock { subscribers.count })) }
        if !asked.isEmpty || legacy { metrics.quotaSnapshotRequests.increment(by: Int64(asked.count + (legacy ? 1 : 0))) }
        return (asked, legacy)
    }

    private func refresh(_ read: () -> (statuses: [BudgetStatus], watermarks: [String: UInt64], generation: UInt64)?, at now: ServiceClock.Instant) {
        guard let reading = read() else {
            pendingRefresh = true
            return
        }
        pendingRefresh = false
        let message = lock.withLock {
            queue.cover(through: reading.generation)
            return mirror.refresh(statuses: reading.statuses, watermarks: reading.watermarks, issuedAt: clock.unixMilliseconds)
        }
        broadcast(message)
        nextRefresh = now.advanced(by: settings.refreshInterval)
    }

    /// Sends `message` to every agent: its watermarks, unless an agent from before topics
    /// listens, as companions to their own agents first, then the rest.
    private func broadcast(_ message: QuotaUpdateMessage) {
        guard !legacySubscribed, !message.watermarks.isEmpty else { return send(message, to: .broadcast) }
        for (agentID, seq) in message.watermarks {
            let companion = QuotaUpdateMessage(version: message.version, isSnapshot: false, budgets: [],
                                               issuedAtMilliseconds: message.issuedAtMilliseconds, watermarks: [agentID: seq])
            send(companion, to: .agent(agentID), counted: false)
        }
        var stripped = message
        stripped.watermarks = [:]
        send(stripped, to: .broadcast)
    }

    private func send(_ message: QuotaUpdateMessage, to topic: QuotaTopic, counted: Bool = true) {
        do {
            let payload = try QuotaUpdateCodec.encode(message)
            // XPUB never blocks: a subscriber that cannot keep up loses messages, sees the
            // version gap and asks for a snapshot.
            if case .agent = topic {
                try socket.send([topic.bytes, payload])
            } else {
                try socket.send([payload])
            }
            // Its agents' ledgers may forget the batches before the last watermark they were sent.
            if !message.watermarks.isEmpty { leases?.published(watermarks: message.watermarks) }
            guard counted else { return }
            (message.isSnapshot ? metrics.quotaSnapshotsPublished : metrics.quotaUpdatesPublished).increment()
            metrics.quotaVersion.set(to: Double(message.version))
        } catch {
            metrics.quotaPublishErrors.increment()
        }
    }
}
