import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Moves usage from the recorder to the aggregator, exactly once:
/// events (already in the event log, see `UsageRecorder`) → per-minute cells → a numbered
/// batch appended to a spool segment → sent
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
        /// What the agent reports about itself on the usage socket; nil sends no reports.
        var fleet: FleetReporter.Settings?
        var spoolMaxHeldBytes = 64 << 20
        var spoolSegmentBytes = 8 << 20
    }

    /// A cut batch the disk did not take yet. Its contents are fixed (events of later epochs
    /// never join it, since their records name a later seq), and it is retried until written.
    struct PendingCut {
        var seq: UInt64
        var cells: [Cell]
        /// How many of its cells no event log holds: memory is all they have.
        var unwrittenCells: Int
        /// The quota tickets of its events, handed to `batchCut` once it is durable.
        var tickets: [LocalSpend.Ticket] = []
    }

    /// With batches waiting and no reply for this long, the socket is replaced: libzmq does
    /// not retry a CurveZMQ handshake the aggregator refused (say, before this agent's key
    /// was allowlisted), so only a fresh socket gets a second chance.
    static let reconnectAfterSilence = Duration.seconds(10)
    /// Recorded usage is folded into cells within this, and shutdown is noticed within it.
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
    /// The highest seq acknowledged since start, for the agent's report.
    private var ackedSeq: UInt64 = 0
    /// The first seq this run cuts: batches below it were recovered from the spool at start.
    private var firstSeqThisRun: UInt64 = 1
    /// The quota channel's standing, read for each report.
    private let quotaView: @Sendable () -> FleetReporter.QuotaView
    private let spool: Spool
    // The meter's state, touched only by the shipper thread.
    /// Cells of the current epoch: the next batch.
    private var accumulator = CellAccumulator()
    /// Cells of the current epoch whose records did not reach the event log.
    private var unwritten = CellAccumulator()
    private var pending: PendingCut?
    private var health = SpoolHealth()
    private var appendFailuresSeen = 0
    private var lastProbe: ServiceClock.Instant?
    private var lastEventLogRefresh: ServiceClock.Instant?
    /// When to give up waiting for acks after a stop was asked for; nil while running.
    private let drainDeadline = NIOLockedValueBox<ServiceClock.Instant?>(nil)
    private let worker = NIOLockedValueBox<WorkerThread?>(nil)
    /// Interrupts the thread's poll when a stop is asked for.
    private let wakeup: ZMQWakeup
    let status = NIOLockedValueBox(ShipperStatus())
    /// Told of every cut: which events' quota tickets the batch took (`UsagePipeline.onBatchCut`).
    let batchCut = NIOLockedValueBox<(@Sendable (UInt64, [LocalSpend.Ticket]) -> Void)?>(nil)
    /// Lease requests to send and where answers go (`UsagePipeline.carryLeases`).
    let leaseExchange = NIOLockedValueBox<LeaseExchange?>(nil)
    /// Tickets of the current epoch's events drained so far (shipper thread only).
    private var uncutTickets: [LocalSpend.Ticket] = []

    init(settings: Settings, identity: AgentIdentity, recorder: UsageRecorder, metrics: AgentMetrics, logger: Logger,
         clock: ServiceClock = .system, quotaView: @escaping @Sendable () -> FleetReporter.QuotaView = { .none }) throws {
        self.settings = settings
        self.quotaView = quotaView
        self.clock = clock
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
        agentID = identity.agentID
        self.identity = identity
        spool = try Spool(stateDirectory: settings.stateDirectory, eventLog: recorder.log, segmentBytes: settings.spoolSegmentBytes)
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
        try recover(into: &window)

        let context = ZMQContext()
        let keyPair: CurveKeyPair?
        if case .curve(_, let secretKeyFile) = settings.security {
            keyPair = try AgentKeys.loadOrCreate(secretKeyFile: secretKeyFile)
        } else {
            keyPair = nil
        }
        var socket = try connect(context, keyPair: keyPair)
        var reporter = settings.fleet.map(FleetReporter.init)
        var lastHeard = clock.now
        logger.info("shipping usage to \(settings.endpoint) as agent \(agentID)\(keyPair.map { " with CurveZMQ key \($0.publicKey)" } ?? " in plaintext")")

        var nextCut = clock.now.advanced(by: settings.flushInterval)
        while true {
            let drainDeadline = drainDeadline.withLockedValue { $0 }
            let stopping = drainDeadline != nil
            // The socket's poll is the loop's pace (ZeroMQ sockets cannot join a Swift wait);
            // a stop wakes it. Usage is on disk before it gets here (`UsageRecorder`).
            if try socket.waitForInput(milliseconds: Int(Self.tick.wholeMilliseconds) / (stopping ? 2 : 1), wakeup: wakeup) {
                while let frames = try socket.receive() {
                    if LeaseCodec.isLease(frames) { receiveLease(frames[1]) } else { handleReply(frames, window: &window) }
                }
                lastHeard = clock.now
            }
            if !window.isEmpty && lastHeard.duration(to: clock.now) > Self.reconnectAfterSilence {
                metrics.reconnects.increment()
                logger.warning("no reply from the aggregator at \(settings.endpoint) for \(Self.reconnectAfterSilence.components.seconds) s; reconnecting (if it keeps refusing, check that this agent's public key is in its authorized_keys_dir)")
                socket = try connect(context, keyPair: keyPair)
                reporter?.reconnected()
                window.resend(from: 0)
                lastHeard = clock.now
            }

            var unused = NextEpoch()
            absorb(recorder.drain(), cutting: nil, next: &unused)
            let recovered = writeUnwrittenOrProbe()

            var now = clock.now
            if now >= nextCut || stopping || accumulator.count >= settings.maxBatchCells || (recovered && pending != nil) {
                if pending != nil {
                    writePendingCut(window: &window)
                } else if !accumulator.isEmpty {
                    cut(window: &window)
                } else if health.failing[.identity] != nil {
                    saveIdentity()
                }
                nextCut = now.advanced(by: settings.flushInterval)
            }

            now = clock.now
            for batch in window.due(now: now) {
                let frames = try UsageBatchCodec.frames(agentID: agentID, seq: batch.seq, floorSeq: window.floorSeq ?? batch.seq,
                                                        highSeq: max(batch.seq, identity.nextSeq - 1), payload: batch.payload)
                guard try socket.send(frames) else { break }
                window.markSent(seq: batch.seq, at: now)
                metrics.batchesSent.increment()
            }
            if reporter != nil { try report(&reporter!, window: window, on: socket) }
            if let leases = leaseExchange.withLockedValue({ $0 }) {
                // Unsent (no connection): the book asks again after `LeaseSlices.askAgain`.
                for request in leases.outgoing() { _ = try socket.send(LeaseCodec.frames(request)) }
            }
            publishStatus(window: window)

            if let drainDeadline {
                if window.isEmpty && accumulator.isEmpty && pending == nil { break }
                if now >= drainDeadline {
                    logger.warning("stopping with \(window.count) unacknowledged batches in the spool; they are sent on the next start")
                    break
                }
            }
        }
    }

    /// Sends the agent's report when due; a report that cannot go now is tried again soon.
    private func report(_ reporter: inout FleetReporter, window: ShipperWindow, on socket: ZMQSocket) throws {
        let now = clock.now
        let quota = quotaView()
        guard reporter.isDue(now: now, quota: quota, spoolUnwritable: !health.writable) else { return }
        let shipping = FleetReporter.Shipping(ackedSeq: ackedSeq, spoolBatches: window.count, spoolBytes: spool.totalBytes,
                                              spoolOverBound: spool.liveBytes > settings.spoolMaxBytes, spoolUnwritable: !health.writable)
        let frame = try AgentReportCodec.encode(reporter.report(quota: quota, shipping: shipping, unixMs: clock.unixMilliseconds))
        if try socket.send([frame]) {
            reporter.sent(now: now, quota: quota, spoolUnwritable: shipping.spoolUnwritable)
            metrics.reportsSent.increment()
        } else {
            reporter.failed(now: now)
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

    private func recover(into window: inout ShipperWindow) throws {
        let recovery = try spool.recover()
        for batch in recovery.batches {
            // It may have reached the aggregator before the restart: never merge it.
            window.append(seq: batch.seq, payload: batch.payload, possiblySent: true)
        }
        let firstUncut = max(identity.nextSeq, (recovery.batches.last?.seq ?? 0) + 1)
        let logs = spool.eventLog.recover(firstUncut: firstUncut)
        // A fresh epoch above every file and record found: the recovered cells join its
        // batch, and the old files go once that batch is durable.
        identity.nextSeq = max(firstUncut, logs.highestEpoch + 1)
        try spool.eventLog.rotate(to: identity.nextSeq)
        firstSeqThisRun = identity.nextSeq
        for cell in logs.cells { accumulator.add(cell) }
        let corrupt = recovery.corruptBatches
        if corrupt > 0 {
            metrics.spoolCorruptBatches.increment(by: Int64(corrupt))
            logger.error("set aside \(corrupt) corrupt spool record(s) or batch file(s) (renamed *.corrupt); their usage is lost")
        }
        let torn = recovery.tornRecords + logs.tornRecords
        if torn > 0 {
            metrics.spoolTornRecords.increment(by: Int64(torn))
            logger.warning("the spool held \(torn) torn record(s) (a crash or a full disk mid-write); kept every whole record")
        }
        if recovery.migratedLegacyFiles > 0 {
            logger.info("moved \(recovery.migratedLegacyFiles) batch file(s) of the one-file-per-batch spool into a segment")
        }
        if !recovery.batches.isEmpty || !logs.cells.isEmpty {
            logger.info("recovered \(recovery.batches.count) unacknowledged batch(es) and \(logs.cells.count) uncut event record(s) from the spool")
        }
    }

    /// Folds drained events into the current epoch's cells. During a cut (`cutting` is the
    /// epoch being cut), events of that epoch or earlier go to the batch being cut and later
    /// ones to `next`. An event whose record missed the disk is held in memory, up to
    /// `spool.max_held_bytes`; past it the event is dropped and counted.
    private func absorb(_ events: [RecordedUsage], cutting: UInt64?, next: inout NextEpoch) {
        guard !events.isEmpty else { return }
        var dropped = 0
        for recorded in events {
            let later = cutting.map { recorded.epoch > $0 } ?? false
            // The ticket goes with the epoch even when the event is dropped below: the book
            // then stops holding the spend once that batch is counted, as the usage is lost.
            if recorded.ticket != 0 {
                if later { next.tickets.append(recorded.ticket) } else { uncutTickets.append(recorded.ticket) }
            }
            if !recorded.logged {
                if heldBytes >= settings.spoolMaxHeldBytes {
                    dropped += 1
                    continue
                }
                if later { next.unwritten.add(recorded.event) } else { unwritten.add(recorded.event) }
            }
            if later { next.cells.add(recorded.event) } else { accumulator.add(recorded.event) }
        }
        metrics.eventsMetered.increment(by: Int64(events.count - dropped))
        if dropped > 0 {
            metrics.usageDropped.increment(by: Int64(dropped))
            logger.error("dropped \(dropped) usage event(s): the spool refuses writes and spool.max_held_bytes (\(settings.spoolMaxHeldBytes)) is reached")
        }
    }

    /// Events of the epoch after the one being cut, drained while the cut waits for writers.
    struct NextEpoch {
        var cells = CellAccumulator()
        var unwritten = CellAccumulator()
        var tickets: [LocalSpend.Ticket] = []
    }

    private var heldBytes: Int {
        (unwritten.count + (pending?.unwrittenCells ?? 0)) * SpoolHealth.bytesPerHeldCell
    }

    /// Writes held usage to the current event log, or, while the spool is unwritable and
    /// nothing is held, a probe record to learn when the disk takes writes again. Returns
    /// true when the spool just became writable.
    private func writeUnwrittenOrProbe() -> Bool {
        let failures = spool.eventLog.appendFailures
        if failures.count > appendFailuresSeen {
            metrics.spoolErrors("append").increment(by: Int64(failures.count - appendFailuresSeen))
            metrics.spoolWriteErrors.increment(by: Int64(failures.count - appendFailuresSeen))
            appendFailuresSeen = failures.count
            noteFailure(.append, SpoolError.io(path: spool.eventLog.directory, operation: "append", code: failures.lastErrno))
        }
        // Also when a failed append on an event loop raced past the count above.
        if spool.eventLog.refusing && health.writable { health.failed(.append, "an event record did not reach the event log") }
        let wasWritable = health.writable
        let now = clock.now
        if unwritten.isEmpty {
            guard !health.writable, lastProbe.map({ $0.duration(to: now) >= .milliseconds(100) }) ?? true else { return false }
            lastProbe = now
        }
        let ok = spool.eventLog.withCurrentEpoch { file -> Bool in
            guard let file else { return false }
            if unwritten.isEmpty { return spool.eventLog.append(EventRecord.probe, to: file) }
            var cells = unwritten.drain()
            while let cell = cells.last, spool.eventLog.append(EventRecord.encode(cell, epoch: file.epoch), to: file) {
                cells.removeLast()
            }
            for cell in cells { unwritten.add(cell) }
            return cells.isEmpty
        }
        // The meter's own failed writes (a probe every 100 ms) are not counted as errors.
        appendFailuresSeen = spool.eventLog.appendFailures.count
        if ok {
            spool.eventLog.acceptsWritesAgain()
            health.succeeded(.append)
        } else {
            noteFailure(.append, SpoolError.io(path: spool.eventLog.directory, operation: "append", code: spool.eventLog.appendFailures.lastErrno))
        }
        return ok && !wasWritable && health.writable
    }

    /// Closes the current epoch and makes its cells a durable, numbered batch.
    ///
    /// Writers are moved to the next epoch's log first; once none is still inside the old
    /// epoch, every event of it is in the ring, and the ring is drained into the batch. The
    /// batch's quota tickets travel with it in `PendingCut`, and the book learns them once the
    /// batch is durable (`writePendingCut`). `nextEpoch` skips writers further ahead than
    /// the next seq (renumbering).
    private func cut(window: inout ShipperWindow, nextEpoch: UInt64? = nil) {
        let seq = identity.nextSeq
        let old: EventLog.File?
        do {
            old = try spool.eventLog.rotate(to: nextEpoch ?? seq + 1)
            health.succeeded(.rotate)
        } catch {
            noteFailure(.rotate, error)
            return  // the epoch stays open; the next cut tries again
        }
        var next = NextEpoch()
        while true {
            let quiet = old.map { spool.eventLog.writersInside($0) == 0 } ?? true
            absorb(recorder.drain(), cutting: seq, next: &next)
            if quiet { break }
            sched_yield()  // a writer is between its append and its ring push: microseconds
        }
        let cells = accumulator.drain()
        pending = PendingCut(seq: seq, cells: cells, unwrittenCells: unwritten.count, tickets: uncutTickets)
        accumulator = next.cells
        unwritten = next.unwritten
        uncutTickets = next.tickets
        writePendingCut(window: &window)
    }

    /// Writes the pending batch to a segment (fsync) before it is first sent. Over
    /// `spool.max_bytes`, the never-sent batches are folded into it (cells are sums, so
    /// nothing is lost) and it supersedes them. The order matters for recovery: segment
    /// record first, then the identity's next seq, then deleting the epoch's event log.
    private func writePendingCut(window: inout ShipperWindow) {
        guard let cut = pending else { return }
        do {
            var cells = cut.cells
            var tail: [ShipperWindow.Batch] = []
            if spool.liveBytes > settings.spoolMaxBytes {
                tail = window.neverSentTail
                if !tail.isEmpty {
                    var merged = CellAccumulator()
                    for cell in cells { merged.add(cell) }
                    for batch in tail {
                        for cell in try UsageBatchCodec.decodePayload(batch.payload) { merged.add(cell) }
                    }
                    cells = merged.drain()
                }
            }
            let payload = try UsageBatchCodec.encodePayload(cells, createdUnixMs: clock.unixMilliseconds)
            let supersedes = tail.first.map { $0.seq...tail.last!.seq }
            try spool.write(SpooledBatch(seq: cut.seq, payload: payload, supersedes: supersedes))
            health.succeeded(.batch)
            // The batch is durable: from here on it must be shipped whatever else fails. A
            // stale agent.json is harmless (recovery takes next_seq from the spool too), and
            // a leftover event log is skipped on recovery because its seq is now cut.
            pending = nil
            identity.nextSeq = cut.seq + 1
            // Before the batch can be sent, so the book knows it before any watermark names
            // it. A merge below supersedes earlier never-sent seqs with this higher one; the
            // book releases their spend when the watermark reaches this seq, which is right.
            batchCut.withLockedValue { $0 }?(cut.seq, cut.tickets)
            if let first = tail.first?.seq {
                for batch in tail { spool.remove(batch.seq) }
                window.replaceNeverSentTail(with: cut.seq, payload: payload)
                metrics.spoolMerges.increment()
                logger.info("merged never-sent batches \(first)...\(tail.last!.seq) into batch \(cut.seq): the spool is over spool.max_bytes")
            } else {
                window.append(seq: cut.seq, payload: payload)
            }
            metrics.batchesCut.increment()
            metrics.cellsCut.increment(by: Int64(cut.cells.count))
        } catch {
            noteFailure(.batch, error)
            return
        }
        saveIdentity()
        spool.eventLog.removeFiles(through: cut.seq)
        let overBound = spool.liveBytes > settings.spoolMaxBytes
        metrics.spoolOverBound.set(to: overBound ? 1 : 0)
        if overBound {
            logger.error("spool holds \(spool.liveBytes) bytes, above spool.max_bytes \(settings.spoolMaxBytes), even after merging: the aggregator has been unreachable for long; usage is kept, disk use grows")
        }
    }

    private func saveIdentity() {
        do {
            try identity.save(in: settings.stateDirectory)
            health.succeeded(.identity)
        } catch {
            noteFailure(.identity, error)
        }
    }

    private func noteFailure(_ operation: SpoolHealth.Operation, _ error: Error) {
        if operation != .append {
            metrics.spoolErrors(operation.rawValue).increment()
            metrics.spoolWriteErrors.increment()
        }
        let wasWritable = health.writable
        health.failed(operation, "\(error)")
        let now = clock.now
        if wasWritable || lastSpoolErrorLog.map({ $0.duration(to: now) > .seconds(10) }) ?? true {
            lastSpoolErrorLog = now
            logger.error("\(error); usage is kept in memory (up to spool.max_held_bytes) and written when the disk recovers")
        }
    }

    private func receiveLease(_ frame: Data) {
        do {
            let grant = try LeaseCodec.decodeGrant(frame)
            leaseExchange.withLockedValue { $0 }?.received(grant)
        } catch {
            metrics.leaseMessages("unreadable").increment()
            logger.warning("ignoring an unreadable lease answer from the aggregator: \(error)")
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
            ackedSeq = max(ackedSeq, seq)
            spool.noteAcknowledged(through: seq)
            metrics.batchesAcked.increment()
            status.withLockedValue { $0.lastAckUnixMs = clock.unixMilliseconds }
        case .nack(let seq, let expected, let reason):
            metrics.batchesNacked.increment()
            logger.warning("aggregator refused batch \(seq): \(reason)")
            if let expected { window.resend(from: expected) }
        case .refused(let seq, let code, let lastApplied, let reason):
            metrics.batchesNacked.increment()
            metrics.batchesRefused(code.metricReason).increment()
            logger.error("aggregator refused batch \(seq) for good (\(code.rawValue)): \(reason)")
            status.withLockedValue { $0.refusal = "\(code.rawValue): \(reason)" }
            if code == .stateBehind, window.batches.contains(where: { $0.seq == seq }), seq <= lastApplied {
                do {
                    try renumber(above: lastApplied, window: &window)
                } catch {
                    noteFailure(.batch, error)
                }
            }
        }
    }

    /// The aggregator has applied up to `lastApplied`, further than this agent ever
    /// numbered: its state directory is older than the aggregator's record (a restored
    /// backup). Batches recovered from the spool at start are taken as the original's,
    /// which it went on to deliver (the aggregator holds them as its seqs up to
    /// `lastApplied`), and dropped; batches cut since start are new usage: merged into one
    /// batch numbered above `lastApplied` (written before the old files go, and marked as
    /// superseding them, so a crash midway neither loses nor doubles them) and resent.
    ///
    /// Usage not yet cut is logged under the open epoch, below the new numbering, and a
    /// crash before the next cut would have recovery take those records for cut and skip
    /// them. So it is cut first (under the old numbering, and merged below like the rest),
    /// with writers moved straight to the epoch after the renumbered batch.
    private func renumber(above lastApplied: UInt64, window: inout ShipperWindow) throws {
        let seq = max(lastApplied + 1, identity.nextSeq + 1)
        if pending == nil { cut(window: &window, nextEpoch: seq + 1) }
        guard pending == nil, spool.eventLog.currentEpoch == seq + 1 else {
            // The refused batch is resent after the ack timeout, and refused again: retried then.
            logger.warning("renumbering above batch \(lastApplied) waits: the spool does not take the batch of usage not yet cut")
            return
        }
        let old = window.batches
        let fresh = old.filter { $0.seq >= firstSeqThisRun }
        var replacement: (seq: UInt64, payload: CompressedPayload)?
        if !fresh.isEmpty, let first = old.first?.seq, let last = old.last?.seq {
            var merged = CellAccumulator()
            for batch in fresh {
                for cell in try UsageBatchCodec.decodePayload(batch.payload) { merged.add(cell) }
            }
            let payload = try UsageBatchCodec.encodePayload(merged.drain(), createdUnixMs: clock.unixMilliseconds)
            try spool.write(SpooledBatch(seq: seq, payload: payload, supersedes: first...last))
            replacement = (seq, payload)
        }
        identity.nextSeq = replacement == nil ? seq : seq + 1
        firstSeqThisRun = identity.nextSeq
        for batch in old { spool.remove(batch.seq) }
        window.replaceAll(with: replacement)
        do {
            try identity.save(in: settings.stateDirectory)
        } catch {
            noteFailure(.identity, error)
        }
        metrics.stateRenumbered.increment()
        status.withLockedValue { $0.renumberedAboveSeq = lastApplied }
        logger.critical("this agent's state is older than the aggregator's record (restored from a backup?): the aggregator has applied up to batch \(lastApplied). Dropped \(old.count - fresh.count) batch(es) recovered at start as already delivered, renumbered \(fresh.count) batch(es) cut since start as batch \(seq), and numbering continues above it")
    }

    private func publishStatus(window: ShipperWindow) {
        let now = clock.now
        if lastEventLogRefresh.map({ $0.duration(to: now) >= .seconds(1) }) ?? true {
            lastEventLogRefresh = now
            spool.refreshEventLogBytes()
        }
        health.heldBytes = heldBytes
        let pendingCells = accumulator.count + (pending?.cells.count ?? 0)
        metrics.unackedBatches.set(to: Double(window.count))
        metrics.spoolBytes.set(to: Double(spool.totalBytes))
        metrics.spoolSegments.set(to: Double(spool.segmentCount))
        metrics.pendingCells.set(to: Double(pendingCells))
        metrics.spoolWritable.set(to: health.degraded ? 0 : 1)
        metrics.spoolHeldBytes.set(to: Double(health.heldBytes))
        // The ring keeps a running total; the counter takes what was added since the last look.
        let fullWaits = recorder.fullWaits
        metrics.ringFullWaits.increment(by: Int64(fullWaits - ringFullWaitsCounted))
        ringFullWaitsCounted = fullWaits
        metrics.ringEvents.set(to: Double(recorder.approximateCount))
        status.withLockedValue { status in
            status.unackedBatches = window.count
            status.spoolBytes = spool.totalBytes
            status.spoolBatches = spool.batchCount
            status.spoolOverBound = spool.liveBytes > settings.spoolMaxBytes
            status.pendingCells = pendingCells
            status.spoolWritable = !health.degraded
            status.spoolProblem = health.reason
            status.spoolHeldBytes = health.heldBytes
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
    var spoolBatches = 0
    /// False while the spool refuses writes or usage waits in memory for it.
    var spoolWritable = true
    /// Why the spool is degraded, for an operator; nil when it is not.
    var spoolProblem: String?
    var spoolHeldBytes = 0
    /// The latest permanent refusal from the aggregator (`BatchRefusal` code and reason).
    var refusal: String?
    /// Set once the agent found its state older than the aggregator's and renumbered above this seq.
    var renumberedAboveSeq: UInt64?

    enum CodingKeys: String, CodingKey {
        case unackedBatches = "unacked_batches"
        case spoolBytes = "spool_bytes"
        case spoolOverBound = "spool_over_bound"
        case pendingCells = "pending_cells"
        case lastAckUnixMs = "last_ack_unix_ms"
        case spoolBatches = "spool_batches"
        case spoolWritable = "spool_writable"
        case spoolProblem = "spool_problem"
        case spoolHeldBytes = "spool_held_bytes"
        case refusal
        case renumberedAboveSeq = "renumbered_above_seq"
    }
}
