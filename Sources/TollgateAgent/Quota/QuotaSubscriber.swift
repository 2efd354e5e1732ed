import Foundation
import Logging
import NIOConcurrencyHelpers
import Synchronization
import TollgateCore
import TollgateWire

/// Keeps the quota book current: subscribes to the aggregator's quota channel (ZeroMQ
/// SUB, CurveZMQ like the usage channel) on its own thread, to the broadcasts and to its
/// own topic (`QuotaTopic`), applies every update, and resubscribes to its own topic, which
/// makes the aggregator send it a snapshot, when it sees a version gap.
final class QuotaSubscriber: Sendable {
    struct Settings: Sendable {
        var endpoint: String
        var security: AgentConfig.AggregatorSecurity
        /// With nothing heard for this long, the socket is replaced: libzmq never retries a
        /// CurveZMQ handshake the aggregator refused (e.g. before the key was allowlisted).
        var reconnectAfterSilence = Duration.seconds(10)
        /// No snapshot this long after start: warn, and repeat (`QuotaChannelHealth`).
        var firstSnapshotTimeout = Duration.seconds(5)
        var staleAfter = Duration.seconds(30)
        /// A gap while a snapshot asked for this recently has not come asks no second time:
        /// every delta until it arrives is a gap too.
        var snapshotRetry = Duration.seconds(1)
    }

    private let settings: Settings
    private let book: QuotaBook
    private let metrics: AgentMetrics
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let worker = NIOLockedValueBox<WorkerThread?>(nil)
    /// Interrupts the thread's poll when a stop is asked for.
    private let wakeup: ZMQWakeup

    init(settings: Settings, book: QuotaBook, metrics: AgentMetrics, logger: Logger) throws {
        wakeup = try ZMQWakeup()
        self.settings = settings
        self.book = book
        self.metrics = metrics
        self.logger = logger
    }

    func start() {
        worker.withLockedValue { worker in
            worker = WorkerThread(name: "tollgate-quota") { [self] in
                do {
                    try run()
                } catch {
                    logger.error("quota channel stopped: \(error); budgets are enforced from the last state received")
                }
            }
        }
    }

    /// Closes the socket; returns once the thread has ended (at once if never started).
    func stop() async {
        stopRequested.store(true, ordering: .relaxed)
        wakeup.wake()
        await worker.withLockedValue { $0 }?.finished()
    }

    /// `stop` for a caller that is not async: blocks its thread until the thread has ended.
    func stopAndWait() {
        stopRequested.store(true, ordering: .relaxed)
        wakeup.wake()
        worker.withLockedValue { $0 }?.join()
    }

    private func run() throws {
        let context = ZMQContext()
        var keyPair: CurveKeyPair?
        if case .curve(_, let secretKeyFile) = settings.security {
            keyPair = try AgentKeys.loadOrCreate(secretKeyFile: secretKeyFile)
        }
        var socket = try connect(context, keyPair: keyPair)
        let clock = book.clock
        var lastHeard = clock.now
        // Subscribing asks for a snapshot: deltas that arrive before it are gaps that need
        // not ask again.
        var snapshotAsked: ServiceClock.Instant? = clock.now
        var assembler = QuotaMessageAssembler()
        var health = QuotaChannelHealth(startedAt: clock.now, firstSnapshotTimeout: settings.firstSnapshotTimeout, staleAfter: settings.staleAfter)
        while !stopRequested.load(ordering: .relaxed) {
            let now = clock.now
            let lastUpdate = book.freshness.lastUpdate
            metrics.setQuotaState(book.view(staleAfter: settings.staleAfter).state)
            if let warning = health.warning(lastUpdate: lastUpdate, now: now, endpoint: settings.endpoint) {
                metrics.quotaNoSnapshotWarnings.increment()
                logger.warning("\(warning)")
            }
            if try socket.waitForInput(milliseconds: 100, wakeup: wakeup) {
                while let frames = try socket.receive() {
                    lastHeard = clock.now
                    handle(frames, socket: socket, assembler: &assembler, snapshotAsked: &snapshotAsked)
                }
            }
            if lastHeard.duration(to: clock.now) > settings.reconnectAfterSilence {
                metrics.quotaReconnects.increment()
                logger.warning("no quota update from \(settings.endpoint) for \(settings.reconnectAfterSilence.components.seconds) s; reconnecting")
                socket = try connect(context, keyPair: keyPair)
                lastHeard = clock.now
                snapshotAsked = clock.now
                assembler = QuotaMessageAssembler()
            }
        }
    }

    private func handle(_ frames: [Data], socket: ZMQSocket, assembler: inout QuotaMessageAssembler, snapshotAsked: inout ServiceClock.Instant?) {
        // A broadcast is the update alone; a message for this agent has its topic first.
        guard frames.count == 1 || (frames.count == 2 && frames[0] == ownTopic.bytes) else {
            metrics.quotaRejected(frames.count == 2 ? "topic" : "frame_count").increment()
            return
        }
        let received: QuotaUpdateMessage
        do {
            received = try QuotaUpdateCodec.decode(frames[frames.count - 1])
        } catch let error as WireError {
            metrics.quotaRejected(error.reason).increment()
            logger.warning("ignored a quota update: \(error)")
            return
        } catch {
            metrics.quotaRejected("unknown").increment()
            return
        }
        guard let update = assembler.receive(frames.count == 2 ? .own(received) : .broadcast(received)) else { return }
        switch book.apply(update) {
        case .applied:
            book.keyAttributions.apply(update)
            metrics.quotaKeyLabels.set(to: Double(book.keyAttributions.count))
            for rejection in book.policies.apply(update) {
                // Once per policy version: the report and `/status` keep saying it until a later version applies.
                metrics.policyRejected(rejection.policyID).increment()
                logger.warning("policy '\(rejection.policyID)' not applied, the previous version (if any) stays in force: \(rejection.reason)")
            }
            metrics.policies.set(to: Double(book.policies.count))
            if update.isSnapshot { snapshotAsked = nil }
            metrics.quotaUpdates.increment()
            metrics.quotaVersion.set(to: Double(update.version))
            metrics.quotaBudgets.set(to: Double(book.statuses.count))
        case .gap(let expected, let received):
            // Resubscribing is how an agent asks the aggregator for a snapshot.
            metrics.quotaGaps.increment()
            let now = book.clock.now
            if let asked = snapshotAsked, asked.duration(to: now) < settings.snapshotRetry { return }
            logger.debug("quota update \(received) arrived while expecting \(expected); asking for a snapshot")
            try? socket.set(.unsubscribe(ownTopic.bytes))
            try? socket.set(.subscribe(ownTopic.bytes))
            snapshotAsked = now
        }
    }

    /// Where the aggregator sends this agent's snapshots.
    private var ownTopic: QuotaTopic { .agent(book.agentID) }

    private func connect(_ context: ZMQContext, keyPair: CurveKeyPair?) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .sub)
        try socket.set(.maxMessageBytes(Int64(QuotaUpdateCodec.maxBytes)))
        try socket.set(.reconnectIntervalMaxMs(5_000))
        if case .curve(let serverKey, _) = settings.security, let keyPair {
            try socket.set(.curveClient(serverKey: serverKey, keyPair: keyPair))
        }
        // Broadcasts first: by the time the aggregator sees the agent's own topic, and
        // answers it with a snapshot, the deltas that follow that snapshot reach it too.
        try socket.set(.subscribe(QuotaTopic.broadcast.bytes))
        try socket.set(.subscribe(ownTopic.bytes))
        try socket.connect(settings.endpoint)
        return socket
    }
}
