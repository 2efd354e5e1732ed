import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateWire

@Suite struct ShipperWindowTests {
    let origin = ServiceClock.system.now
    /// `ms` milliseconds into the test.
    func t(_ ms: Int) -> ServiceClock.Instant { origin.advanced(by: .milliseconds(ms)) }

    func window(with seqs: [UInt64]) -> ShipperWindow {
        var window = ShipperWindow(maxInFlight: 4, baseTimeout: .milliseconds(100), maxTimeout: .milliseconds(400))
        for seq in seqs { window.append(seq: seq, payload: CompressedPayload(bytes: Data([UInt8(seq)]), uncompressedLength: 1)) }
        return window
    }

    @Test func sendsEachNewBatchOnce() {
        var window = window(with: [1, 2])
        #expect(window.due(now: t(0)).map(\.seq) == [1, 2])
        window.markSent(seq: 1, at: t(0))
        window.markSent(seq: 2, at: t(0))
        #expect(window.due(now: t(50)).isEmpty)
    }

    /// Renumbered above the aggregator's last seq (`state_behind`): one batch, due at once,
    /// the new floor, and never taken for sent, so it may still be merged.
    @Test func replaceAllLeavesOnlyTheRenumberedBatchDueNow() {
        var window = window(with: [2, 3, 4])
        for seq in [2, 3, 4] as [UInt64] { window.markSent(seq: seq, at: t(0)) }
        window.replaceAll(with: (seq: 9, payload: CompressedPayload(bytes: Data([9]), uncompressedLength: 1)))
        #expect(window.batches.map(\.seq) == [9])
        #expect(window.floorSeq == 9)
        #expect(window.due(now: t(1)).map(\.seq) == [9])
        #expect(window.neverSentTail.map(\.seq) == [9])
        window.replaceAll(with: nil)
        #expect(window.isEmpty)
    }

    @Test func cumulativeAckTrimsEverythingUpToIt() {
        var window = window(with: [1, 2, 3])
        #expect(window.acknowledge(upTo: 2) == [1, 2])
        #expect(window.batches.map(\.seq) == [3])
        #expect(window.acknowledge(upTo: 2).isEmpty)  // a duplicate ack changes nothing
        #expect(window.count == 1)
    }

    @Test func resendsAllAfterTimeoutWithExponentialBackoff() {
        var window = window(with: [1, 2])
        for batch in window.due(now: t(0)) { window.markSent(seq: batch.seq, at: t(0)) }
        #expect(window.due(now: t(99)).isEmpty)
        #expect(window.due(now: t(100)).map(\.seq) == [1, 2])
        #expect(window.timeout == .milliseconds(200))
        for batch in window.due(now: t(100)) { window.markSent(seq: batch.seq, at: t(100)) }
        #expect(window.due(now: t(299)).isEmpty)
        #expect(window.due(now: t(300)).count == 2)
        #expect(window.timeout == .milliseconds(400))
        _ = window.due(now: t(10_000))
        #expect(window.timeout == .milliseconds(400))  // capped
        _ = window.acknowledge(upTo: 1)
        #expect(window.timeout == .milliseconds(100))  // progress resets the backoff
    }

    @Test func aGapNackResendsFromTheExpectedBatch() {
        var window = window(with: [4, 5, 6])
        for batch in window.due(now: t(0)) { window.markSent(seq: batch.seq, at: t(0)) }
        window.resend(from: 5)
        #expect(window.due(now: t(1)).map(\.seq) == [5, 6])
    }

    @Test func onlyThePrefixIsInFlight() {
        var window = window(with: [1, 2, 3, 4, 5, 6])
        #expect(window.due(now: t(0)).map(\.seq) == [1, 2, 3, 4])
        for batch in window.due(now: t(0)) { window.markSent(seq: batch.seq, at: t(0)) }
        _ = window.acknowledge(upTo: 2)
        #expect(window.due(now: t(1)).map(\.seq) == [5, 6])
    }

    @Test func onlyNeverSentBatchesAreMergeable() {
        var window = window(with: [1, 2, 3])
        window.markSent(seq: 1, at: t(0))
        #expect(window.neverSentTail.map(\.seq) == [2, 3])
        window.replaceNeverSentTail(with: 4, payload: CompressedPayload(bytes: Data(), uncompressedLength: 0))
        #expect(window.batches.map(\.seq) == [1, 4])

        var restarted = ShipperWindow()
        restarted.append(seq: 9, payload: CompressedPayload(bytes: Data(), uncompressedLength: 0), possiblySent: true)
        #expect(restarted.neverSentTail.isEmpty)
    }

    /// A day-long outage leaves ~350,000 batches; the drain acknowledges them a few at a
    /// time. Each ack must cost the batches it releases, not the ones still held: with an
    /// array shifted on every ack this took minutes (quadratic), it now takes well under a second.
    @Test func drainingADaysBacklogOneAckAtATimeIsLinear() {
        let count = 100_000
        var window = ShipperWindow()
        let payload = CompressedPayload(bytes: Data([1]), uncompressedLength: 1)
        for seq in 1...UInt64(count) { window.append(seq: seq, payload: payload, possiblySent: true) }
        var released: UInt64 = 0
        var inOrder = true
        // The thread's CPU time, not the wall clock: a loaded machine slows both kinds alike.
        let before = Self.threadCPUSeconds()
        for seq in 1...UInt64(count) {
            let ack = window.acknowledge(upTo: seq)
            inOrder = inOrder && ack == [seq]
            released += UInt64(ack.count)
        }
        let cpu = Self.threadCPUSeconds() - before
        #expect(inOrder && released == UInt64(count) && window.isEmpty)
        #expect(cpu < 10, "acknowledging \(count) batches one at a time took \(cpu) s of CPU")
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
