import Foundation

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

extension Shipper {
    func publishStatus(window: ShipperWindow) {
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
