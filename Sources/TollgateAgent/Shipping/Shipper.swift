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
/// that thread too, which is why the class can be `@unchecked Sendable`. Its work is in
/// extensions: spooling (`Shipper+Spooling`), the aggregator's replies (`Shipper+Replies`)
/// and what it reports (`ShipperStatus`); their state is internal for them, not for others.
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

    let settings: Settings
    let recorder: UsageRecorder
    let metrics: AgentMetrics
    let logger: Logger
    /// Cuts, resends, reconnects and the drain deadline all go by it.
    let clock: ServiceClock
    let agentID: String
    var identity: AgentIdentity
    var lastSpoolErrorLog: ServiceClock.Instant?
    var ringFullWaitsCounted = 0
    /// The highest seq acknowledged since start, for the agent's report.
    var ackedSeq: UInt64 = 0
    /// The first seq this run cuts: batches below it were recovered from the spool at start.
    var firstSeqThisRun: UInt64 = 1
    /// The quota channel's standing, read for each report.
    let quotaView: @Sendable () -> FleetReporter.QuotaView
    let spool: Spool
    // The meter's state, touched only by the shipper thread.
    /// Cells of the current epoch: the next batch.
    var accumulator = CellAccumulator()
    /// Cells of the current epoch whose records did not reach the event log.
    var unwritten = CellAccumulator()
    var pending: PendingCut?
    var health = SpoolHealth()
    var appendFailuresSeen = 0
    var lastProbe: ServiceClock.Instant?
    var lastEventLogRefresh: ServiceClock.Instant?
    /// When to give up waiting for acks after a stop was asked for; nil while running.
    let drainDeadline = NIOLockedValueBox<ServiceClock.Instant?>(nil)
    let worker = NIOLockedValueBox<WorkerThread?>(nil)
    /// Interrupts the thread's poll when a stop is asked for.
    let wakeup: ZMQWakeup
    let status = NIOLockedValueBox(ShipperStatus())
    /// Told of every cut: which events' quota tickets the batch took (`UsagePipeline.onBatchCut`).
    let batchCut = NIOLockedValueBox<(@Sendable (UInt64, [LocalSpend.Ticket]) -> Void)?>(nil)
    /// Lease requests to send and where answers go (`UsagePipeline.carryLeases`).
    let leaseExchange = NIOLockedValueBox<LeaseExchange?>(nil)
    /// Tickets of the current epoch's events drained so far (shipper thread only).
    var uncutTickets: [LocalSpend.Ticket] = []

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

    func requestStop(drainTimeout: Duration) -> WorkerThread? {
        drainDeadline.withLockedValue { $0 = clock.now.advanced(by: drainTimeout) }
        wakeup.wake()
        return worker.withLockedValue { $0 }
    }

    // MARK: The shipper thread

    func run() throws {
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
    func report(_ reporter: inout FleetReporter, window: ShipperWindow, on socket: ZMQSocket) throws {
        let now = clock.now
        let quota = quotaView()
        let unwritable = !health.writable
        guard reporter.isDue(now: now, quota: quota, spoolUnwritable: unwritable) else { return }
        let shipping = FleetReporter.Shipping(ackedSeq: ackedSeq, spoolBatches: window.count, spoolBytes: spool.totalBytes,
                                              spoolOverBound: spool.liveBytes > settings.spoolMaxBytes, spoolUnwritable: unwritable)
        let frame = try AgentReportCodec.encode(reporter.report(quota: quota, shipping: shipping, unixMs: clock.unixMilliseconds))
        if try socket.send([frame]) {
            reporter.sent(now: now, quota: quota, spoolUnwritable: shipping.spoolUnwritable)
            metrics.reportsSent.increment()
        } else {
            reporter.failed(now: now)
        }
    }

    func connect(_ context: ZMQContext, keyPair: CurveKeyPair?) throws -> ZMQSocket {
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

    func recover(into window: inout ShipperWindow) throws {
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
}
