import Foundation
import TollgateCore
import TollgateWire

/// What the aggregator answers on the usage socket: acks, refusals, lease grants, and
/// the renumbering a restored backup calls for.
extension Shipper {
    func receiveLease(_ frame: Data) {
        do {
            let grant = try LeaseCodec.decodeGrant(frame)
            leaseExchange.withLockedValue { $0 }?.received(grant)
        } catch {
            metrics.leaseMessages("unreadable").increment()
            logger.warning("ignoring an unreadable lease answer from the aggregator: \(error)")
        }
    }

    func handleReply(_ frames: [Data], window: inout ShipperWindow) {
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
    func renumber(above lastApplied: UInt64, window: inout ShipperWindow) throws {
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
}
