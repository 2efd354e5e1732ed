import Foundation
@testable import TollgateAgent
import Testing

@Suite struct ShipperWindowTests {
    func window(with seqs: [UInt64]) -> ShipperWindow {
        var window = ShipperWindow(maxInFlight: 4, baseTimeoutMs: 100, maxTimeoutMs: 400)
        for seq in seqs { window.append(seq: seq, frames: [Data([UInt8(seq)])]) }
        return window
    }

    @Test func sendsEachNewBatchOnce() {
        var window = window(with: [1, 2])
        #expect(window.due(nowMs: 0).map(\.seq) == [1, 2])
        window.markSent(seq: 1, nowMs: 0)
        window.markSent(seq: 2, nowMs: 0)
        #expect(window.due(nowMs: 50).isEmpty)
    }

    @Test func cumulativeAckTrimsEverythingUpToIt() {
        var window = window(with: [1, 2, 3])
        window.acknowledge(upTo: 2)
        #expect(window.batches.map(\.seq) == [3])
        window.acknowledge(upTo: 2)  // a duplicate ack changes nothing
        #expect(window.count == 1)
    }

    @Test func resendsAllAfterTimeoutWithExponentialBackoff() {
        var window = window(with: [1, 2])
        for batch in window.due(nowMs: 0) { window.markSent(seq: batch.seq, nowMs: 0) }
        #expect(window.due(nowMs: 99).isEmpty)
        #expect(window.due(nowMs: 100).map(\.seq) == [1, 2])
        #expect(window.timeoutMs == 200)
        for batch in window.due(nowMs: 100) { window.markSent(seq: batch.seq, nowMs: 100) }
        #expect(window.due(nowMs: 299).isEmpty)
        #expect(window.due(nowMs: 300).count == 2)
        #expect(window.timeoutMs == 400)
        _ = window.due(nowMs: 10_000)
        #expect(window.timeoutMs == 400)  // capped
        window.acknowledge(upTo: 1)
        #expect(window.timeoutMs == 100)  // progress resets the backoff
    }

    @Test func aGapNackResendsFromTheExpectedBatch() {
        var window = window(with: [4, 5, 6])
        for batch in window.due(nowMs: 0) { window.markSent(seq: batch.seq, nowMs: 0) }
        window.resend(from: 5)
        #expect(window.due(nowMs: 1).map(\.seq) == [5, 6])
    }

    @Test func reportsFullness() {
        #expect(window(with: [1, 2, 3, 4]).isFull)
        #expect(!window(with: [1, 2, 3]).isFull)
    }
}
