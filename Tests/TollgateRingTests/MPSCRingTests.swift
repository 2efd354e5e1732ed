import Testing
@testable import TollgateRing

@Suite struct MPSCRingTests {
    @Test func popsInPushOrder() {
        let ring = MPSCRing<Int>(capacity: 8)
        for value in 1...5 { ring.push(value) }
        #expect(ring.approximateCount == 5)
        #expect((0..<5).map { _ in ring.pop() } == [1, 2, 3, 4, 5])
        #expect(ring.pop() == nil)
        #expect(ring.approximateCount == 0)
    }

    @Test(arguments: [(1, 2), (2, 2), (3, 4), (5, 8), (1000, 1024), (1024, 1024), (1025, 2048)])
    func roundsCapacityUpToAPowerOfTwo(requested: Int, expected: Int) {
        #expect(MPSCRing<Int>(capacity: requested).capacity == expected)
    }

    @Test func tryPushRefusesWhenFullAndPopReturnsNilWhenEmpty() {
        let ring = MPSCRing<Int>(capacity: 4)
        #expect(ring.pop() == nil)
        for value in 0..<4 { #expect(ring.tryPush(value)) }
        #expect(!ring.tryPush(99))
        #expect(ring.approximateCount == 4)
        #expect(ring.pop() == 0)
        #expect(ring.tryPush(4))
        #expect(!ring.tryPush(99))
        #expect((0..<4).map { _ in ring.pop() } == [1, 2, 3, 4])
        #expect(ring.pop() == nil)
        // Room was always there when push was called, so it never waited.
        #expect(ring.fullWaits == 0)
    }

    @Test func staysInOrderOverManyLaps() {
        let ring = MPSCRing<Int>(capacity: 4)
        var next = 0
        var expected = 0
        // Batch sizes 1...4 so the head and tail land on every slot offset across laps.
        for lap in 0..<20_000 {
            let batch = lap % 4 + 1
            for _ in 0..<batch {
                #expect(ring.tryPush(next))
                next += 1
            }
            while let value = ring.pop() {
                if value != expected {
                    Issue.record("lap \(lap): popped \(value), expected \(expected)")
                    return
                }
                expected += 1
            }
        }
        #expect(expected == next)
        #expect(next > 40_000)
    }

    @Test func drainStopsAtMaxAndAtEmpty() {
        let ring = MPSCRing<Int>(capacity: 16)
        for value in 0..<10 { ring.push(value) }
        var seen: [Int] = []
        #expect(ring.drain(max: 4) { seen.append($0) } == 4)
        #expect(seen == [0, 1, 2, 3])
        #expect(ring.drain(max: 100) { seen.append($0) } == 6)
        #expect(seen == Array(0..<10))
        #expect(ring.drain(max: 100) { _ in } == 0)
    }

    @Test func releasesReferencesWhenPoppedAndWhenLeftInTheRing() {
        let deinits = DeinitCounter()
        do {
            let ring = MPSCRing<Tracked>(capacity: 8)
            // Several laps so slots are reused after their first element was moved out.
            for round in 0..<5 {
                for _ in 0..<6 { ring.push(Tracked(deinits)) }
                for _ in 0..<6 { _ = ring.pop() }
                #expect(deinits.count == (round + 1) * 6)
            }
            for _ in 0..<7 { ring.push(Tracked(deinits)) }
            _ = ring.pop()
            #expect(deinits.count == 31)
            #expect(ring.approximateCount == 6)
        }
        // The ring's deinit must release the six still inside.
        #expect(deinits.count == 37)
    }
}

final class DeinitCounter: @unchecked Sendable {
    // Single-threaded tests only.
    var count = 0
}

final class Tracked: @unchecked Sendable {
    let counter: DeinitCounter
    init(_ counter: DeinitCounter) { self.counter = counter }
    deinit { counter.count += 1 }
}
