import Foundation
import TollgateWire

/// The shipper's bookkeeping as a value: every unacknowledged batch in seq order, which of
/// them are due to be (re)sent, and how long to back off. The thread that owns the ZeroMQ
/// socket feeds it acks, nacks and clock ticks and sends what it returns.
///
/// Only the first `maxInFlight` batches are ever out at once; the rest wait their turn.
struct ShipperWindow {
    struct Batch {
        let seq: UInt64
        let payload: CompressedPayload
        /// When it was last handed to the socket; nil means not yet, or due again.
        var sentAtMs: Int64?
    }

    private(set) var batches: [Batch] = []
    /// The highest seq ever handed to the socket. Batches above it were never sent, so
    /// the aggregator cannot have applied them and they may safely be merged.
    private(set) var highestSentSeq: UInt64 = 0
    let maxInFlight: Int
    let baseTimeoutMs: Int64
    let maxTimeoutMs: Int64
    private(set) var timeoutMs: Int64

    init(maxInFlight: Int = 16, baseTimeoutMs: Int64 = 2_000, maxTimeoutMs: Int64 = 30_000) {
        self.maxInFlight = maxInFlight
        self.baseTimeoutMs = baseTimeoutMs
        self.maxTimeoutMs = maxTimeoutMs
        timeoutMs = baseTimeoutMs
    }

    var isEmpty: Bool { batches.isEmpty }
    var count: Int { batches.count }
    /// The lowest seq the agent still holds: everything below is acknowledged or abandoned.
    var floorSeq: UInt64? { batches.first?.seq }

    /// Adds a batch that may already have been sent before a restart (`possiblySent`).
    mutating func append(seq: UInt64, payload: CompressedPayload, possiblySent: Bool = false) {
        precondition(batches.last.map { $0.seq < seq } ?? true, "batches are appended in sequence order")
        batches.append(Batch(seq: seq, payload: payload, sentAtMs: nil))
        if possiblySent { highestSentSeq = max(highestSentSeq, seq) }
    }

    /// A cumulative ack: everything up to `seq` is committed. Progress resets the backoff.
    /// Returns the seqs it released, for the spool to delete.
    mutating func acknowledge(upTo seq: UInt64) -> [UInt64] {
        let released = batches.prefix { $0.seq <= seq }.map(\.seq)
        batches.removeFirst(released.count)
        if !released.isEmpty { timeoutMs = baseTimeoutMs }
        return released
    }

    /// The aggregator wants an earlier batch first: everything from there is due again.
    mutating func resend(from seq: UInt64) {
        for index in batches.indices where batches[index].seq >= seq { batches[index].sentAtMs = nil }
    }

    /// Batches to send now, oldest first: the in-flight prefix's unsent batches, or all of
    /// them once the oldest has waited longer than the timeout (the connection may have
    /// lost it, or the aggregator restarted).
    mutating func due(nowMs: Int64) -> [Batch] {
        let inFlight = min(maxInFlight, batches.count)
        if let oldest = batches.prefix(inFlight).compactMap(\.sentAtMs).min(), nowMs - oldest >= timeoutMs {
            timeoutMs = min(timeoutMs * 2, maxTimeoutMs)
            for index in 0..<inFlight { batches[index].sentAtMs = nil }
        }
        return batches.prefix(inFlight).filter { $0.sentAtMs == nil }
    }

    mutating func markSent(seq: UInt64, nowMs: Int64) {
        if let index = batches.firstIndex(where: { $0.seq == seq }) { batches[index].sentAtMs = nowMs }
        highestSentSeq = max(highestSentSeq, seq)
    }

    /// The never-sent batches at the end, which can be merged into one.
    var neverSentTail: ArraySlice<Batch> {
        batches.suffix(while: { $0.seq > highestSentSeq })
    }

    /// Replaces the never-sent tail with one merged batch.
    mutating func replaceNeverSentTail(with seq: UInt64, payload: CompressedPayload) {
        batches.removeLast(neverSentTail.count)
        append(seq: seq, payload: payload)
    }
}

extension Array {
    func suffix(while predicate: (Element) -> Bool) -> ArraySlice<Element> {
        var start = endIndex
        while start > startIndex && predicate(self[start - 1]) { start -= 1 }
        return self[start...]
    }
}
