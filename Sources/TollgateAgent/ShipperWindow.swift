import Foundation

/// The shipper's bookkeeping as a value: which batches are out, which are due to be
/// (re)sent, and how long to back off. The thread that owns the ZeroMQ socket feeds it
/// acks, nacks and clock ticks and sends what it returns.
struct ShipperWindow {
    struct Batch {
        let seq: UInt64
        let frames: [Data]
        /// When it was last handed to the socket; nil means never, or due again.
        var sentAtMs: Int64?
    }

    private(set) var batches: [Batch] = []
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
    var isFull: Bool { batches.count >= maxInFlight }

    mutating func append(seq: UInt64, frames: [Data]) {
        precondition(batches.last.map { $0.seq < seq } ?? true, "batches are appended in sequence order")
        batches.append(Batch(seq: seq, frames: frames, sentAtMs: nil))
    }

    /// A cumulative ack: everything up to `seq` is committed. Progress resets the backoff.
    mutating func acknowledge(upTo seq: UInt64) {
        let before = batches.count
        batches.removeAll { $0.seq <= seq }
        if batches.count < before { timeoutMs = baseTimeoutMs }
    }

    /// The aggregator wants an earlier batch first: everything from there is due again.
    mutating func resend(from seq: UInt64) {
        for index in batches.indices where batches[index].seq >= seq { batches[index].sentAtMs = nil }
    }

    /// Batches to send now, oldest first: the never-sent ones, or all of them once the
    /// oldest has waited longer than the timeout (the connection may have dropped it).
    mutating func due(nowMs: Int64) -> [Batch] {
        if let oldest = batches.first?.sentAtMs, nowMs - oldest >= timeoutMs {
            timeoutMs = min(timeoutMs * 2, maxTimeoutMs)
            for index in batches.indices { batches[index].sentAtMs = nil }
        }
        return batches.filter { $0.sentAtMs == nil }
    }

    mutating func markSent(seq: UInt64, nowMs: Int64) {
        if let index = batches.firstIndex(where: { $0.seq == seq }) { batches[index].sentAtMs = nowMs }
    }
}
