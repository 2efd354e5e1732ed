import Foundation
import NIOCore
import TollgateCore
import TollgateWire

/// The shipper's bookkeeping as a value: every unacknowledged batch in seq order, which of
/// them are due to be (re)sent, and how long to back off. The thread that owns the ZeroMQ
/// socket feeds it acks, nacks and clock ticks and sends what it returns.
///
/// Only the first `maxInFlight` batches are ever out at once; the rest wait their turn.
///
/// The batches sit in a ring buffer: after a day-long outage the window holds ~350,000 of
/// them, and every ack releases a few from the front, which an array would pay for by
/// shifting all the rest (quadratic over the drain).
struct ShipperWindow {
    struct Batch {
        let seq: UInt64
        let payload: CompressedPayload
        /// When it was last handed to the socket; nil means not yet, or due again.
        var sentAt: ServiceClock.Instant?
    }

    private(set) var batches = CircularBuffer<Batch>()
    /// The highest seq ever handed to the socket. Batches above it were never sent, so
    /// the aggregator cannot have applied them and they may safely be merged.
    private(set) var highestSentSeq: UInt64 = 0
    let maxInFlight: Int
    let baseTimeout: Duration
    let maxTimeout: Duration
    /// How long the oldest batch out waits for its ack before everything out is sent again.
    private(set) var timeout: Duration

    init(maxInFlight: Int = 16, baseTimeout: Duration = .seconds(2), maxTimeout: Duration = .seconds(30)) {
        self.maxInFlight = maxInFlight
        self.baseTimeout = baseTimeout
        self.maxTimeout = maxTimeout
        timeout = baseTimeout
    }

    var isEmpty: Bool { batches.isEmpty }
    var count: Int { batches.count }
    /// The lowest seq the agent still holds: everything below is acknowledged or abandoned.
    var floorSeq: UInt64? { batches.first?.seq }

    /// Adds a batch that may already have been sent before a restart (`possiblySent`).
    mutating func append(seq: UInt64, payload: CompressedPayload, possiblySent: Bool = false) {
        precondition(batches.last.map { $0.seq < seq } ?? true, "batches are appended in sequence order")
        batches.append(Batch(seq: seq, payload: payload, sentAt: nil))
        if possiblySent { highestSentSeq = max(highestSentSeq, seq) }
    }

    /// A cumulative ack: everything up to `seq` is committed. Progress resets the backoff.
    /// Returns the seqs it released, for the spool to delete.
    mutating func acknowledge(upTo seq: UInt64) -> [UInt64] {
        var released: [UInt64] = []
        while let first = batches.first, first.seq <= seq {
            released.append(batches.removeFirst().seq)
        }
        if !released.isEmpty { timeout = baseTimeout }
        return released
    }

    /// The aggregator wants an earlier batch first: everything from there is due again.
    mutating func resend(from seq: UInt64) {
        for index in batches.indices where batches[index].seq >= seq { batches[index].sentAt = nil }
    }

    /// Batches to send now, oldest first: the in-flight prefix's unsent batches, or all of
    /// them once the oldest has waited longer than the timeout (the connection may have
    /// lost it, or the aggregator restarted).
    mutating func due(now: ServiceClock.Instant) -> [Batch] {
        let inFlight = min(maxInFlight, batches.count)
        if let oldest = batches.prefix(inFlight).compactMap(\.sentAt).min(), oldest.duration(to: now) >= timeout {
            timeout = min(timeout * 2, maxTimeout)
            for offset in 0..<inFlight { batches[offset: offset].sentAt = nil }
        }
        return batches.prefix(inFlight).filter { $0.sentAt == nil }
    }

    mutating func markSent(seq: UInt64, at now: ServiceClock.Instant) {
        // Sent batches are in the in-flight prefix: the search stops within `maxInFlight`.
        if let index = batches.firstIndex(where: { $0.seq == seq }) { batches[index].sentAt = now }
        highestSentSeq = max(highestSentSeq, seq)
    }

    /// Replaces every batch with `replacement` (or nothing): the agent renumbered its
    /// unacknowledged usage above the aggregator's last seq (`Shipper` on `state_behind`).
    mutating func replaceAll(with replacement: (seq: UInt64, payload: CompressedPayload)?) {
        batches.removeAll()
        if let replacement { append(seq: replacement.seq, payload: replacement.payload) }
        timeout = baseTimeout
    }

    /// The never-sent batches at the end, which can be merged into one.
    var neverSentTail: [Batch] {
        var start = batches.endIndex
        while start > batches.startIndex, batches[batches.index(before: start)].seq > highestSentSeq {
            start = batches.index(before: start)
        }
        return Array(batches[start...])
    }

    /// Replaces the never-sent tail with one merged batch.
    mutating func replaceNeverSentTail(with seq: UInt64, payload: CompressedPayload) {
        batches.removeLast(neverSentTail.count)
        append(seq: seq, payload: payload)
    }
}
