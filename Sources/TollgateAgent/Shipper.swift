import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Moves usage from the recorder to the aggregator: folds events into per-minute cells,
/// cuts a numbered batch every flush interval and sends it over a ZeroMQ DEALER socket,
/// keeping it until the aggregator acknowledges it.
///
/// The socket lives on the shipper's own thread from creation to close, because libzmq
/// sockets must not be shared between threads.
final class Shipper: @unchecked Sendable {
    private let endpoint: String
    private let stateDirectory: String
    private let flushIntervalMs: Int64
    private let recorder: UsageRecorder
    private let metrics: MetricsRegistry
    private let logger: Logger
    private var identity: AgentIdentity
    private let stopRequested = NIOLockedFlag()
    private let finished = DispatchSemaphore(value: 0)
    private var drainDeadlineMs: Int64 = .max

    init(config: AgentConfig, identity: AgentIdentity, recorder: UsageRecorder, metrics: MetricsRegistry, logger: Logger) {
        endpoint = config.aggregatorEndpoint
        stateDirectory = config.stateDirectory
        flushIntervalMs = Int64(config.flushIntervalMilliseconds)
        self.identity = identity
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
    }

    var agentID: String { identity.agentID }

    func start() {
        let thread = Thread { [self] in
            do {
                try run()
            } catch {
                logger.critical("usage shipper stopped: \(error)")
            }
            finished.signal()
        }
        thread.name = "tollgate-shipper"
        thread.start()
    }

    /// Flushes what is recorded and waits up to `drainTimeout` for the aggregator's acks.
    func stop(drainTimeout: TimeInterval = 5) {
        drainDeadlineMs = Self.nowMs() + Int64(drainTimeout * 1000)
        stopRequested.set()
        finished.wait()
    }

    private func run() throws {
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .dealer)
        // Queue only to a connected aggregator: while it is away, sends fail fast and
        // batches wait in the window (and merge in the accumulator) instead of piling up
        // inside libzmq as duplicates.
        try socket.set(.immediate(true))
        try socket.set(.reconnectIntervalMaxMs(5_000))
        try socket.connect(endpoint)
        logger.info("shipping usage to \(endpoint) as agent \(identity.agentID)")

        var accumulator = CellAccumulator()
        var window = ShipperWindow()
        var nextFlushMs = Self.nowMs() + flushIntervalMs

        while true {
            let stopping = stopRequested.isSet
            let waitMs = stopping ? 10 : max(0, min(nextFlushMs - Self.nowMs(), 50))
            if try socket.waitForInput(milliseconds: Int(waitMs)) {
                while let frames = try socket.receive() { handleReply(frames, window: &window) }
            }

            var now = Self.nowMs()
            if now >= nextFlushMs || stopping {
                for event in recorder.drain() { accumulator.add(event) }
                if !accumulator.isEmpty && !window.isFull { try cutBatch(from: &accumulator, into: &window, nowMs: now) }
                nextFlushMs = now + flushIntervalMs
            }

            now = Self.nowMs()
            for batch in window.due(nowMs: now) {
                guard try socket.send(batch.frames) else { break }
                window.markSent(seq: batch.seq, nowMs: now)
                metrics.increment("tollgate_agent_batches_sent_total")
            }
            metrics.set("tollgate_agent_unacked_batches", Int64(window.count))
            metrics.set("tollgate_agent_pending_cells", Int64(accumulator.count))

            if stopping {
                if window.isEmpty && accumulator.isEmpty { break }
                if now >= drainDeadlineMs {
                    logger.error("stopping with \(window.count) unacknowledged batches and \(accumulator.count) unsent cells: the aggregator did not answer in time")
                    break
                }
            }
        }
    }

    private func cutBatch(from accumulator: inout CellAccumulator, into window: inout ShipperWindow, nowMs: Int64) throws {
        let seq = identity.nextSeq
        identity.nextSeq += 1
        do {
            try identity.save(in: stateDirectory)
        } catch {
            metrics.increment("tollgate_agent_state_write_errors_total")
            logger.error("\(error)")
        }
        let cells = accumulator.drain()
        let message = UsageBatchMessage(agentID: identity.agentID, seq: seq, floorSeq: window.batches.first?.seq ?? seq, cells: cells)
        window.append(seq: seq, frames: try UsageBatchCodec.encode(message, createdUnixMs: nowMs))
        metrics.increment("tollgate_agent_batches_cut_total")
        metrics.increment("tollgate_agent_cells_cut_total", by: Int64(cells.count))
    }

    private func handleReply(_ frames: [Data], window: inout ShipperWindow) {
        guard frames.count == 1, let reply = try? UsageReply(decoding: frames[0]) else {
            metrics.increment("tollgate_agent_bad_replies_total")
            logger.warning("ignoring an unreadable reply from the aggregator")
            return
        }
        switch reply {
        case .ack(let seq):
            window.acknowledge(upTo: seq)
            metrics.increment("tollgate_agent_batches_acked_total")
        case .nack(let seq, let expected, let reason):
            metrics.increment("tollgate_agent_batches_nacked_total")
            logger.warning("aggregator refused batch \(seq): \(reason)")
            if let expected { window.resend(from: expected) }
        }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A one-way flag, set by one thread and read by another.
final class NIOLockedFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    func set() { value.withLockedValue { $0 = true } }
    var isSet: Bool { value.withLockedValue { $0 } }
}
