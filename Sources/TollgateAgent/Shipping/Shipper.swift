import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Moves usage from the recorder to the aggregator, exactly once:
/// events → `events.log` and per-minute cells → a numbered batch spooled to disk → sent
/// over a ZeroMQ DEALER socket → deleted once the aggregator acknowledges it.
///
/// The socket lives on the shipper's own thread from creation to close, because libzmq
/// sockets must not be shared between threads. `identity` and `spool` are touched only by
/// that thread too, which is why the class can be `@unchecked Sendable`.
final class Shipper: @unchecked Sendable {
    struct Settings {
        var endpoint: String
        var stateDirectory: String
        var flushInterval: Duration
        var maxBatchCells: Int
        var spoolMaxBytes: Int
        var security: AgentConfig.AggregatorSecurity
    }

    /// With batches waiting and no reply for this long, the socket is replaced: libzmq does
    /// not retry a CurveZMQ handshake the aggregator refused (say, before this agent's key
    /// was allowlisted), so only a fresh socket gets a second chance.
    static let reconnectAfterSilence = Duration.seconds(10)
    /// Recorded usage reaches events.log within this, and shutdown is noticed within it.
    static let tick = Duration.milliseconds(10)

    private let settings: Settings
    private let recorder: UsageRecorder
    private let metrics: AgentMetrics
    private let logger: Logger
    /// Cuts, resends, reconnects and the drain deadline all go by it.
    private let clock: ServiceClock
    let agentID: String
    private var identity: AgentIdentity
    private var lastSpoolErrorLog: ServiceClock.Instant?
    private var ringFullWaitsCounted = 0
    private let spool: Spool
    /// When to give up waiting for acks after a stop was asked for; nil while running.
    private let drainDeadline = NIOLockedValueBox<ServiceClock.Instant?>(nil)
    private let worker = NIOLockedValueBox<WorkerThread?>(nil)
    /// Interrupts the thread's poll when a stop is asked for.
    private let wakeup: ZMQWakeup
    let status = NIOLockedValueBox(ShipperStatus())
    /// Told of every cut: which events' quota tickets the batch took (`UsagePipeline.onBatchCut`).
    let batchCut = NIOLockedValueBox<(@Sendable (UInt64, [LocalSpend.Ticket]) -> Void)?>(nil)
    /// Tickets of the events drained since the last cut (shipper thread only).
    private var uncutTickets: [LocalSpend.Ticket] = []

    init(settings: Settings, identity: AgentIdentity, recorder: UsageRecorder, metrics: AgentMetrics, logger: Logger,
         clock: ServiceClock = .system) throws {
        self.settings = settings
        self.clock = clock
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
        agentID = identity.agentID
        self.identity = identity
        spool = try Spool(stateDirectory: settings.stateDirectory)
        wakeup = try ZMQWakeup()
    }

    func start() {
        worker.withLockedValue { worker in
            worker = WorkerThread(name: "tollgate-shipper") { [self] in
                do {
                    try run()
                } catch {
                    metrics.shipperFailures.increment()
                    logger.critical("usage shipper stopped: \(error)")
                }
            }
        }
    }

    /// Cuts what is recorded and waits up to `drainTimeout` for the aggregator's acks.
    /// Whatever is still unacknowledged stays in the spool for the next start.
    func stop(drainTimeout: Duration) async {
        await requestStop(drainTimeout: drainTimeout)?.finished()
    }

    /// `stop` for a caller that is not async: blocks its thread until the shipper is done.
    func stopAndWait(drainTimeout: Duration) {
        requestStop(drainTimeout: drainTimeout)?.join()
    }

    private func requestStop(drainTimeout: Duration) -> WorkerThread? {
        drainDeadline.withLockedValue { $0 = clock.now.advanced(by: drainTimeout) }
        wakeup.wake()
        return worker.withLockedValue { $0 }
    }

    // MARK: The shipper thread

    private func run() throws {
        var window = ShipperWindow()
        var accumulator = CellAccumulator()
        try recover(into: &window, accumulator: &accumulator)

        let context = ZMQContext()
        let keyPair: CurveKeyPair?
        if case .curve(_, let secretKeyFile) = settings.security {
            keyPair = try AgentKeys.loadOrCreate(secretKeyFile: secretKeyFile)
        } else {
            keyPair = nil
        }
        var socket = try connect(context, keyPair: keyPair)
        var lastHeard = clock.now
        logger.info("shipping usage to \(settings.endpoint) as agent \(agentID)\(keyPair.map { " with CurveZMQ key \($0.publicKey)" } ?? " in plaintext")")

        var nextCut = clock.now.advanced(by: settings.flushInterval)
        while true {
            let drainDeadline = drainDeadline.withLockedValue { $0 }
            let stopping = drainDeadline != nil
            // The socket's poll is the loop's pace (ZeroMQ sockets cannot join a Swift wait),
            // short so recorded usage reaches events.log within milliseconds; a stop wakes it.
            if try socket.waitForInput(milliseconds: Int(Self.tick.wholeMilliseconds) / (stopping ? 2 : 1), wakeup: wakeup) {
                while let frames = try socket.receive() { handleReply(frames, window: &window) }
                lastHeard = clock.now
            }
            if !window.isEmpty && lastHeard.duration(to: clock.now) > Self.reconnectAfterSilence {
                metrics.reconnects.increment()
                logger.warning("no reply from the aggregator at \(settings.endpoint) for \(Self.reconnectAfterSilence.components.seconds) s; reconnecting (if it keeps refusing, check that this agent's public key is in its authorized_keys_dir)")
                socket = try connect(context, keyPair: keyPair)
                window.resend(from: 0)
                lastHeard = clock.now
            }

            let events = recorder.drain()
            if !events.isEmpty {
                var fresh = CellAccumulator()
                for recorded in events {
                    fresh.add(recorded.event)
                    if recorded.ticket != 0 { uncutTickets.append(recorded.ticket) }
                }
                let cells = fresh.drain()
                do {
                    try spool.appendEvents(cells, generation: identity.nextSeq)
                } catch {
                    // Keep metering from memory: a full disk must not stop the proxy
                    // (the ring would fill and stall it). The next cut retries the disk.
                    spoolFailed(error)
                }
                for cell in cells { accumulator.add(cell) }
                metrics.eventsMetered.increment(by: Int64(events.count))
            }

            var now = clock.now
            if now >= nextCut || stopping || accumulator.count >= settings.maxBatchCells {
                if !accumulator.isEmpty {
                    do {
                        try cut(&accumulator, window: &window)
                    } catch {
                        spoolFailed(error)
                    }
                }
                nextCut = now.advanced(by: settings.flushInterval)
            }

            now = clock.now
            for batch in window.due(now: now) {
                let frames = try UsageBatchCodec.frames(agentID: agentID, seq: batch.seq, floorSeq: window.floorSeq ?? batch.seq, payload: batch.payload)
                guard try socket.send(frames) else { break }
                window.markSent(seq: batch.seq, at: now)
                metrics.batchesSent.increment()
            }
            publishStatus(window: window, pendingCells: accumulator.count)

            if let drainDeadline {
                if window.isEmpty && accumulator.isEmpty { break }
                if now >= drainDeadline {
                    logger.warning("stopping with \(window.count) unacknowledged batches in the spool; they are sent on the next start")
                    break
                }
            }
        }
    }

    private func connect(_ context: ZMQContext, keyPair: CurveKeyPair?) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        // Queue only to a connected aggregator: while it is away, sends fail fast and
        // batches wait in the spool instead of piling up inside libzmq as duplicates.
        try socket.set(.immediate(true))
        try socket.set(.reconnectIntervalMaxMs(5_000))
        if case .curve(let serverKey, _) = settings.security, let keyPair {
            try socket.set(.curveClient(serverKey: serverKey, keyPair: keyPair))
        }
        try socket.connect(settings.endpoint)
        return socket
    }

    private func recover(into window: inout ShipperWindow, accumulator: inout CellAccumulator) throws {
        let recovery = try spool.recover(nextSeq: identity.nextSeq)
        for batch in recovery.batches {
            // It may have reached the aggregator before the restart: never merge it.
            window.append(seq: batch.seq, payload: batch.payload, possiblySent: true)
        }
        if let last = recovery.batches.last, last.seq >= identity.nextSeq {
            identity.nextSeq = last.seq + 1
        }
        for cell in recovery.pendingCells { accumulator.add(cell) }
        if recovery.corruptBatches > 0 {
            metrics.spoolCorruptBatches.increment(by: Int64(recovery.corruptBatches))
            logger.error("skipped \(recovery.corruptBatches) corrupt spool batch file(s) (renamed *.corrupt); their usage is lost")
        }
        if recovery.tornEventRecords > 0 {
            metrics.spoolTornRecords.increment(by: Int64(recovery.tornEventRecords))
            logger.warning("events.log ended in a torn record (a crash mid-write); kept everything before it")
        }
        if !recovery.batches.isEmpty || !recovery.pendingCells.isEmpty {
            logger.info("recovered \(recovery.batches.count) unacknowledged batch(es) and \(recovery.pendingCells.count) uncut cell(s) from the spool")
        }
    }

    /// Makes the accumulated cells a durable, numbered batch. The order matters for
    /// recovery: batch file first, then the identity's next seq, then clearing events.log.
    private func cut(_ accumulator: inout CellAccumulator, window: inout ShipperWindow) throws {
        let seq = identity.nextSeq
        let cells = accumulator.drain()
        let payload = try UsageBatchCodec.encodePayload(cells, createdUnixMs: clock.unixMilliseconds)
        do {
            try spool.write(SpooledBatch(seq: seq, payload: payload))
        } catch {
            for cell in cells { accumulator.add(cell) }  // nothing is lost; retried next cut
            throw error
        }
        // The batch is durable: from here on it must be shipped whatever else fails. A
        // stale agent.json is harmless (recovery takes next_seq from the spool too), and
        // an uncleared events.log is skipped on recovery because its seq is now cut.
        identity.nextSeq = seq + 1
        // Before the batch can be sent, so the book knows it before any watermark names it.
        batchCut.withLockedValue { $0 }?(seq, uncutTickets)
        uncutTickets.removeAll(keepingCapacity: true)
        window.append(seq: seq, payload: payload)
        do {
            try identity.save(in: settings.stateDirectory)
            try spool.clearEvents()
        } catch {
            spoolFailed(error)
        }
        metrics.batchesCut.increment()
        metrics.cellsCut.increment(by: Int64(cells.count))
        if spool.totalBytes > settings.spoolMaxBytes { try mergeNeverSent(window: &window) }
    }

    /// During a long outage, folds the batches that were never sent into one: cells are
    /// sums, so nothing is lost, and the spool stops growing with the number of flushes.
    private func mergeNeverSent(window: inout ShipperWindow) throws {
        let tail = window.neverSentTail
        if tail.count >= 2, let first = tail.first?.seq, let last = tail.last?.seq {
            var merged = CellAccumulator()
            for batch in tail {
                for cell in try UsageBatchCodec.decodePayload(batch.payload) { merged.add(cell) }
            }
            let seq = identity.nextSeq
            let payload = try UsageBatchCodec.encodePayload(merged.drain(), createdUnixMs: clock.unixMilliseconds)
            try spool.write(SpooledBatch(seq: seq, payload: payload, supersedes: first...last))
            // Durable from here: the window must switch to the merged batch whatever else
            // fails, or the same usage would be shipped twice.
            identity.nextSeq = seq + 1
            for batch in tail { spool.remove(batch.seq) }
            window.replaceNeverSentTail(with: seq, payload: payload)
            do {
                try identity.save(in: settings.stateDirectory)
            } catch {
                spoolFailed(error)
            }
            metrics.spoolMerges.increment()
        }
        let overBound = spool.totalBytes > settings.spoolMaxBytes
        metrics.spoolOverBound.set(to: overBound ? 1 : 0)
        if overBound {
            logger.error("spool holds \(spool.totalBytes) bytes, above spool.max_bytes \(settings.spoolMaxBytes), even after merging: the aggregator has been unreachable for long; usage is kept, disk use grows")
        }
    }

    private func spoolFailed(_ error: Error) {
        metrics.spoolWriteErrors.increment()
        let now = clock.now
        if lastSpoolErrorLog.map({ $0.duration(to: now) > .seconds(10) }) ?? true {
            lastSpoolErrorLog = now
            logger.error("\(error); usage is kept in memory and written when the disk recovers")
        }
    }

    private func handleReply(_ frames: [Data], window: inout ShipperWindow) {
        guard frames.count == 1, let reply = try? UsageReply(decoding: frames[0]) else {
            metrics.badReplies.increment()
            logger.warning("ignoring an unreadable reply from the aggregator")
            return
        }
        switch reply {
        case .ack(let seq):
            for released in window.acknowledge(upTo: seq) { spool.remove(released) }
            metrics.batchesAcked.increment()
            status.withLockedValue { $0.lastAckUnixMs = clock.unixMilliseconds }
        case .nack(let seq, let expected, let reason):
            metrics.batchesNacked.increment()
            logger.warning("aggregator refused batch \(seq): \(reason)")
            if let expected { window.resend(from: expected) }
        }
    }

    private func publishStatus(window: ShipperWindow, pendingCells: Int) {
        metrics.unackedBatches.set(to: Double(window.count))
        metrics.spoolBytes.set(to: Double(spool.totalBytes))
        metrics.pendingCells.set(to: Double(pendingCells))
        // The ring keeps a running total; the counter takes what was added since the last look.
        let fullWaits = recorder.fullWaits
        metrics.ringFullWaits.increment(by: Int64(fullWaits - ringFullWaitsCounted))
        ringFullWaitsCounted = fullWaits
        metrics.ringEvents.set(to: Double(recorder.approximateCount))
        status.withLockedValue { status in
            status.unackedBatches = window.count
            status.spoolBytes = spool.totalBytes
            status.spoolOverBound = spool.totalBytes > settings.spoolMaxBytes
            status.pendingCells = pendingCells
        }
    }
}

/// What the shipper reports at `/status`.
struct ShipperStatus: Codable, Sendable {
    var unackedBatches = 0
    var spoolBytes = 0
    var spoolOverBound = false
    var pendingCells = 0
    var lastAckUnixMs: Int64?

    enum CodingKeys: String, CodingKey {
        case unackedBatches = "unacked_batches"
        case spoolBytes = "spool_bytes"
        case spoolOverBound = "spool_over_bound"
        case pendingCells = "pending_cells"
        case lastAckUnixMs = "last_ack_unix_ms"
    }
}
