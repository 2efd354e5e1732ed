import Foundation
import TollgateCore
import TollgateWire

/// How recorded usage becomes durable batches: cells per epoch, cuts, the spool's
/// write failures and the usage held in memory while the disk refuses it.
extension Shipper {
    /// Folds drained events into the current epoch's cells. During a cut (`cutting` is the
    /// epoch being cut), events of that epoch or earlier go to the batch being cut and later
    /// ones to `next`. An event whose record missed the disk is held in memory, up to
    /// `spool.max_held_bytes`; past it the event is dropped and counted.
    func absorb(_ events: [RecordedUsage], cutting: UInt64?, next: inout NextEpoch) {
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

    var heldBytes: Int {
        (unwritten.count + (pending?.unwrittenCells ?? 0)) * SpoolHealth.bytesPerHeldCell
    }

    /// Writes held usage to the current event log, or, while the spool is unwritable and
    /// nothing is held, a probe record to learn when the disk takes writes again. Returns
    /// true when the spool just became writable.
    func writeUnwrittenOrProbe() -> Bool {
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
    func cut(window: inout ShipperWindow, nextEpoch: UInt64? = nil) {
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
    func writePendingCut(window: inout ShipperWindow) {
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

    func saveIdentity() {
        do {
            try identity.save(in: settings.stateDirectory)
            health.succeeded(.identity)
        } catch {
            noteFailure(.identity, error)
        }
    }

    func noteFailure(_ operation: SpoolHealth.Operation, _ error: Error) {
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
}
