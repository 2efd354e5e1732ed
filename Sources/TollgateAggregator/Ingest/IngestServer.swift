import Foundation
import Logging
import NIOConcurrencyHelpers
import Synchronization
import TollgateCore
import TollgateWire

/// Receives usage batches on a ZeroMQ ROUTER socket, commits them through the store and
/// answers each with an ack or a nack; and publishes budget statuses on the quota channel
/// (XPUB) right after the commit that changed them.
///
/// Two threads, a pipeline: the socket thread owns both sockets, decodes each batch and
/// has the store encode it (`UsageStore.prepare`); the commit thread (`SerialStage`)
/// commits batches in arrival order and hands each reply back over an inproc pipe, so
/// one batch is decoded while the previous one is written and fsynced. Every reply goes
/// through the commit thread, so an agent's replies keep the order of its batches. Both
/// network sockets share one ZeroMQ context, so one ZAP handler authenticates agents on both.
final class IngestServer: Sendable {
    private let endpoint: String
    private let quota: QuotaSettings?
    private let security: AggregatorConfig.UsageSecurity
    private let store: UsageStore
    let budgets: BudgetBoard?
    /// Learns of agents from their reports and batches; nil keeps no fleet view.
    private let fleet: FleetRegistry?
    let metrics: AggregatorMetrics
    let logger: Logger
    /// Allowlist reloads and quota snapshots go by it.
    private let clock: ServiceClock
    private let stopRequested = Atomic<Bool>(false)
    private let worker = NIOLockedValueBox<WorkerThread?>(nil)
    /// Interrupts the socket thread's poll when a stop is asked for.
    private let wakeup: ZMQWakeup
    /// Refusals are logged at most a few times a minute per reason: a misconfigured or
    /// hostile agent resends forever, and the metric counts every one.
    private let refusalLog: RefusalLogLimiter

    /// Where and how often budget statuses are published; nil runs without a quota channel.
    struct QuotaSettings: Sendable {
        var endpoint: String
        var snapshotInterval: Duration
        /// How changes are merged into deltas (`QuotaPublisher.Settings`).
        var coalesceWindow = Duration.milliseconds(20)
        var maxFanoutPerSecond = 10_000
        var farSpendInterval = Duration.seconds(2)
    }

    /// The endpoints actually bound (ports resolved when configured as 0 or `*`).
    struct Bound: Sendable {
        var usage: String
        var quota: String?
    }

    /// Batches decoded and waiting for the commit thread, at most; they commit as one group.
    static let commitQueueDepth = 16

    /// How often the authorized-keys directory is re-read.
    static let allowlistReload = Duration.seconds(5)

    /// libzmq I/O threads of the context both channels share (`zmq_io_threads`).
    private let ioThreads: Int
    /// Key → team/project, pushed to agents with the quota state.
    private let keyLabels: KeyLabelBook?
    /// Spend policies, pushed to agents with the quota state.
    private let policies: PolicyBook?

    init(endpoint: String, quota: QuotaSettings? = nil, security: AggregatorConfig.UsageSecurity, store: UsageStore,
         budgets: BudgetBoard? = nil, fleet: FleetRegistry? = nil, metrics: AggregatorMetrics, logger: Logger,
         clock: ServiceClock = .system, ioThreads: Int = AggregatorConfig.defaultZMQIOThreads, keyLabels: KeyLabelBook? = nil,
         policies: PolicyBook? = nil) throws {
        self.keyLabels = keyLabels
        self.policies = policies
        wakeup = try ZMQWakeup()
        self.ioThreads = ioThreads
        self.clock = clock
        self.endpoint = endpoint
        self.quota = quota
        self.security = security
        self.store = store
        self.budgets = budgets
        self.fleet = fleet
        self.metrics = metrics
        self.logger = logger
        refusalLog = RefusalLogLimiter(clock: clock)
    }

    /// Starts the ingest threads; returns the endpoints actually bound, or the bind error.
    func start() throws -> Bound {
        let (thread, bound) = try WorkerThread.start(name: "tollgate-ingest") { [self] ready in run(ready) }
        worker.withLockedValue { $0 = thread }
        return bound
    }

    /// Returns once batches already received are committed and the sockets are closed.
    func stop() async {
        stopRequested.store(true, ordering: .relaxed)
        wakeup.wake()
        await worker.withLockedValue { $0 }?.finished()
    }

    /// `stop` for a caller that is not async: blocks its thread until done.
    func stopAndWait() {
        stopRequested.store(true, ordering: .relaxed)
        wakeup.wake()
        worker.withLockedValue { $0 }?.join()
    }

    private func run(_ ready: @Sendable (Result<Bound, Error>) -> Void) {
        let context = ZMQContext(ioThreads: ioThreads)
        let socket: ZMQSocket
        var authenticator: ZAPAuthenticator?
        var publisher: QuotaPublisher?
        var quotaSocket: ZMQSocket?
        let replies: ZMQSocket
        let stage: SerialStage<(routingID: Data, work: Received)>
        do {
            socket = try ZMQSocket(context, .router)
            // A frame larger than any honest batch is refused inside libzmq, before we
            // allocate for it.
            try socket.set(.maxMessageBytes(Int64(UsageBatchCodec.maxUncompressedBytes)))
            authenticator = try secure(socket, context: context)
            try socket.bind(endpoint)
            if let quota {
                let xpub = try ZMQSocket(context, .xpub)
                // Agents only listen on this channel: subscriptions and the CurveZMQ
                // handshake are small, anything larger is refused inside libzmq.
                try xpub.set(.maxMessageBytes(4096))
                if authenticator != nil { try secureAsServer(xpub) }
                try xpub.bind(quota.endpoint)
                let settings = QuotaPublisher.Settings(refreshInterval: quota.snapshotInterval, coalesceWindow: quota.coalesceWindow,
                                                       maxFanoutPerSecond: quota.maxFanoutPerSecond, farSpendInterval: quota.farSpendInterval)
                let wakeup = wakeup
                let quotaPublisher = try QuotaPublisher(socket: xpub, metrics: metrics, settings: settings, clock: clock,
                                                        leases: budgets?.leases) { wakeup.wake() }
                budgets?.addObserver { update in quotaPublisher.enqueue(update) }
                keyLabels?.addObserver { labels in quotaPublisher.setKeyLabels(labels) }
                policies?.addObserver { policies in quotaPublisher.setPolicies(policies) }
                publisher = quotaPublisher
                quotaSocket = xpub
            }
            (replies, stage) = try startCommitStage(context)
            ready(.success(Bound(usage: socket.lastEndpoint, quota: quotaSocket?.lastEndpoint)))
        } catch {
            return ready(.failure(error))
        }
        defer { authenticator?.stop() }
        var nextReload = clock.now.advanced(by: Self.allowlistReload)
        // Nil: the first reload reads the keys whatever their stamp.
        var allowlistStamp: [String: [Int]]?
        while !stopRequested.load(ordering: .relaxed) {
            do {
                // Woken early when a merged quota delta or a refresh falls due.
                let timeout = publisher?.millisecondsUntilDue(atMost: 50) ?? 50
                let ready = try ZMQSocket.waitForInput(on: [socket, replies] + (quotaSocket.map { [$0] } ?? []), milliseconds: timeout, wakeup: wakeup)
                if ready[0] {
                    // A bounded turn, so the replies of committed batches go out promptly
                    // even while agents keep sending.
                    for _ in 0..<Self.commitQueueDepth * 4 {
                        guard let message = try socket.receiveWithPeer() else { break }
                        let frames = message.frames
                        guard frames.count >= 2 else { continue }
                        if authenticator != nil && message.userID == nil {
                            metrics.ingestRejected("unauthenticated").increment()
                            continue
                        }
                        if LeaseCodec.isLease(Array(frames.dropFirst())) {
                            answerLease(frames, keyName: message.userID, on: socket)
                            continue
                        }
                        // One frame after the routing id is an agent's report (a batch is
                        // always two); it needs no commit and gets no reply.
                        if frames.count == 2 {
                            fleet?.receive(reportFrame: frames[1], keyName: message.userID, address: message.peerAddress)
                            continue
                        }
                        stage.submit((frames[0], receive(Array(frames.dropFirst()), sender: message.userID)))
                    }
                }
                // Replies whether or not the poll saw them: more may have come meanwhile.
                while let reply = try replies.receive() {
                    try socket.send(reply)
                    // Budgets this batch moved go out now, not at the next poll.
                    publishQuota(publisher)
                }
                publishQuota(publisher)
            } catch {
                metrics.socketErrors.increment()
                logger.error("usage socket error: \(error)")
            }
            if let authenticator, clock.now >= nextReload {
                reloadAllowlist(authenticator, unless: &allowlistStamp)
                nextReload = clock.now.advanced(by: Self.allowlistReload)
            }
        }
        // Batches already received still commit; their acks go out if the agent is still
        // there, and a lost ack only means a resend that is acknowledged as a duplicate.
        stage.finish()
        while let reply = try? replies.receive() { _ = try? socket.send(reply) }
    }

    /// What the socket thread hands the commit thread: a batch to commit, or a reply
    /// already decided (a batch that could not be decoded) that must keep its place in line.
    enum Received: Sendable {
        /// With the batch's spend per (provider, model, team), added to `/metrics` once applied.
        case prepared(PreparedBatch, SpendSeriesTally?)
        case reply(UsageReply)
    }

    /// Starts the commit thread; returns the socket thread's end of the reply pipe with it.
    private func startCommitStage(_ context: ZMQContext) throws -> (ZMQSocket, SerialStage<(routingID: Data, work: Received)>) {
        let pipe = "inproc://tollgate-ingest-replies-\(UUID().uuidString)"
        let replies = try ZMQSocket(context, .pair)
        // No high-water mark: a commit thread blocked on a full pipe while the socket thread
        // waits for room in the commit queue would stop both. Replies are bounded anyway,
        // by the batches agents may have in flight.
        try replies.set(.receiveHighWaterMark(0))
        try replies.bind(pipe)
        // Used only by the commit thread from here on.
        nonisolated(unsafe) let sender = try ZMQSocket(context, .pair)
        try sender.set(.sendHighWaterMark(0))
        try sender.connect(pipe)
        let metrics = metrics
        let logger = logger
        let stage = SerialStage<(routingID: Data, work: Received)>(name: "tollgate-commit", capacity: Self.commitQueueDepth) { [self] items in
            for (item, reply) in zip(items, commit(items.map(\.work))) {
                do {
                    try sender.send([item.routingID, try reply.encoded()], dontWait: false)
                } catch {
                    metrics.socketErrors.increment()
                    logger.error("could not hand a reply to the socket thread: \(error)")
                }
            }
        }
        return (replies, stage)
    }

    /// Makes the socket a CurveZMQ server that admits only allowlisted agents. The ZAP
    /// handler must be running before the socket binds: libzmq consults it only for
    /// sockets set up after it exists.
    private func secure(_ socket: ZMQSocket, context: ZMQContext) throws -> ZAPAuthenticator? {
        guard case .curve(_, let directory) = security else {
            logger.warning("usage channel is plaintext (insecure_plaintext: true): anyone who reaches \(endpoint) can ship usage")
            return nil
        }
        let metrics = metrics
        let logger = logger
        let authenticator = ZAPAuthenticator(context: context, allowlist: try AuthorizedAgents.load(directory: directory)) { reason in
            metrics.authRejected.increment()
            logger.warning("refused an agent on the usage channel: \(reason)")
        }
        try authenticator.start()
        try secureAsServer(socket)
        return authenticator
    }

    private func secureAsServer(_ socket: ZMQSocket) throws {
        guard case .curve(let keyPair, _) = security else { return }
        try socket.set(.curveServer(secretKey: keyPair.secretKey))
        // With an enforced domain libzmq refuses clients whenever no ZAP handler answers,
        // instead of admitting them unauthenticated.
        try socket.set(.zapDomain("tollgate"))
        try socket.set(.zapEnforceDomain(true))
    }

    /// Sends queued budget changes when due, a refresh when due, and the snapshots asked for.
    /// A reading that fails is skipped rather than sent empty, which would wipe agents' state.
    private func publishQuota(_ publisher: QuotaPublisher?) {
        guard let publisher else { return }
        publisher.service {
            do {
                return try budgets?.quotaSnapshot() ?? ([], [:], 0)
            } catch {
                metrics.quotaSnapshotErrors.increment()
                logger.error("cannot read budget statuses for a quota snapshot: \(error)")
                return nil
            }
        }
    }

    /// The key directory's stamp (`AuthorizedAgents.stamp`); nil without Curve or when unreadable.
    private func allowlistStampNow() -> [String: [Int]]? {
        guard case .curve(_, let directory) = security else { return nil }
        return try? AuthorizedAgents.stamp(directory: directory)
    }

    /// Re-reads the allowlist unless no key file changed since `stamp` (which it updates).
    private func reloadAllowlist(_ authenticator: ZAPAuthenticator, unless stamp: inout [String: [Int]]?) {
        guard case .curve(_, let directory) = security else { return }
        let now = allowlistStampNow()
        if let now, now == stamp { return }
        stamp = now
        do {
            authenticator.updateAllowlist(try AuthorizedAgents.load(directory: directory))
        } catch {
            metrics.allowlistErrors.increment()
            logger.error("kept the previous agent allowlist: \(error)")
        }
    }

    /// Decodes, deduplicates and commits one batch; never throws, every failure is a reply.
    /// `sender` is the allowlist name of the key that sent it (nil on a plaintext channel).
    func handle(_ frames: [Data], sender: String? = nil) -> UsageReply {
        commit([receive(frames, sender: sender)])[0]
    }

    /// Decodes a batch and has the store encode it; a batch that cannot be decoded gets its nack.
    /// `sender` (the ZAP User-Id) goes with the batch so the store can check the agent id is its own.
    func receive(_ frames: [Data], sender: String? = nil) -> Received {
        do {
            var raw = try UsageBatchCodec.decodeRaw(frames)
            raw.sender = sender
            let prepared = try store.prepare(raw, spendSeries: true)
            return .prepared(prepared, prepared.spendSeries)
        } catch let error as WireError {
            metrics.ingestRejected(error.reason).increment()
            logger.warning("rejected a usage batch: \(error)")
            let seq = (try? UsageBatchCodec.decodeHeader(frames))?.seq ?? 0
            return .reply(.nack(seq: seq, expected: nil, reason: error.description))
        } catch {
            metrics.ingestRejected("unknown").increment()
            return .reply(.nack(seq: 0, expected: nil, reason: "\(error)"))
        }
    }

    /// Commits the prepared batches among `work` as one group and decides every reply, in order.
    func commit(_ work: [Received]) -> [UsageReply] {
        let prepared = work.compactMap { if case .prepared(let batch, _) = $0 { batch } else { nil } }
        let started = clock.now
        var results = store.commit(prepared).makeIterator()
        if !prepared.isEmpty {
            metrics.commitGroups.increment()
            metrics.ingestCommit.recordNanoseconds(Int64(started.duration(to: clock.now) / .nanoseconds(1)))
        }
        return work.map { item in
            switch item {
            case .reply(let reply): reply
            case .prepared(let batch, let spend): reply(to: batch, results.next()!, spend: spend)
            }
        }
    }

    /// What a refusal tells the agent and the log; an identity refusal names neither the
    /// victim's seq nor anything else about it beyond the key it is bound to.
    func explain(_ refusal: BatchRefusal, batch: RawUsageBatch, lastSeq: UInt64, boundTo: String?) -> String {
        let sender = batch.sender.map { "key \"\($0)\"" } ?? "a plaintext connection"
        switch refusal {
        case .identity:
            return "agent id \(batch.agentID) is bound to key \"\(boundTo ?? "")\", but batch \(batch.seq) came from \(sender)"
        case .seqTooFar:
            return "batch \(batch.seq) of agent \(batch.agentID) (from \(sender)) is more than \(store.maxSeqAdvance) past its last applied seq \(lastSeq)"
        case .stateBehind:
            return "agent \(batch.agentID) (from \(sender)) numbers up to \(batch.highSeq) but the aggregator has applied up to \(lastSeq): "
                + "its state directory is older than the aggregator's record (restored from a backup?); it must number above \(lastSeq)"
        }
    }

    private func reply(to prepared: PreparedBatch, _ result: Result<Committed, Error>, spend: SpendSeriesTally? = nil) -> UsageReply {
        let batch = prepared.batch
        switch result {
        case .success(let committed):
            switch committed.outcome {
            case .applied:
                metrics.batchesApplied.increment()
                metrics.cellsApplied.increment(by: Int64(prepared.cellCount))
                if let spend { metrics.spend.add(spend) }
                // After the commit, before the ack: statuses, alerts and observers see only durable spend.
                budgets?.didCommit(committed.budgetSpend, watermark: (batch.agentID, batch.seq), generation: committed.generation)
                fleet?.batch(agentID: batch.agentID, appliedSeq: batch.seq)
                return .ack(seq: batch.seq)
            case .duplicate(let lastSeq):
                metrics.batchesDuplicate.increment()
                fleet?.batch(agentID: batch.agentID, appliedSeq: lastSeq)
                return .ack(seq: max(lastSeq, batch.seq))
            case .gap(let expected):
                metrics.batchesGap.increment()
                return .nack(seq: batch.seq, expected: expected, reason: "out of order: expected batch \(expected)")
            case .refused(let refusal, let lastSeq, let boundTo):
                metrics.ingestRejected(refusal.metricReason).increment()
                let reason = explain(refusal, batch: batch, lastSeq: lastSeq, boundTo: boundTo)
                if refusalLog.allow(refusal) { logger.error("refused a usage batch: \(reason)") }
                return .refused(seq: batch.seq, code: refusal, lastApplied: lastSeq, reason: reason)
            }
        case .failure(let error):
            metrics.storeErrors.increment()
            logger.error("could not commit batch \(batch.seq) from agent \(batch.agentID): \(error)")
            return .nack(seq: batch.seq, expected: nil, reason: "aggregator could not commit the batch; it will be resent")
        }
    }
}
