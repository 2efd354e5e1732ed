import Foundation
import Testing
import TollgateRing

/// Real threads hammering a small ring. Serialized: two of these at once on a 2-core
/// machine would only make each slower.
@Suite(.serialized) struct MPSCRingContentionTests {
    struct Event: Sendable {
        var producer: Int
        var sequence: Int

        var checksum: Int { producer &* 1_000_003 &+ sequence &* 31 &+ (producer ^ sequence) }
    }

    @Test(arguments: [4, 8])
    func everyEventArrivesOnceAndInOrderPerProducer(producers: Int) async {
        let total = 2_000_000
        let perProducer = total / producers
        let ring = MPSCRing<Event>(capacity: 1024)
        let produced = (0..<producers).map { _ in ProducerChecksum() }
        let consumed = Consumed(producers: producers)

        await runOnThreads(producers: producers) { producer in
            var checksum = 0
            for sequence in 0..<perProducer {
                let event = Event(producer: producer, sequence: sequence)
                checksum &+= event.checksum
                ring.push(event)
            }
            produced[producer].value = checksum
        } consumer: {
            var received = 0
            var idle = Backoff()
            while received < perProducer * producers {
                let taken = ring.drain(max: 512) { event in
                    if event.sequence != consumed.next[event.producer] { consumed.orderErrors += 1 }
                    consumed.next[event.producer] = event.sequence + 1
                    consumed.checksum &+= event.checksum
                }
                if taken == 0 { idle.wait() } else { idle.reset() }
                received += taken
            }
            consumed.received = received
        }

        #expect(consumed.received == perProducer * producers)
        #expect(consumed.orderErrors == 0)
        #expect(consumed.next == Array(repeating: perProducer, count: producers))
        #expect(consumed.checksum == produced.map(\.value).reduce(0, &+))
        #expect(ring.pop() == nil)
        #expect(ring.approximateCount == 0)
        // 1024 slots against several producers: they must have found it full.
        #expect(ring.fullWaits > 0)
    }

    /// Starts one Foundation thread per producer and one consumer thread, and returns when
    /// all have finished. The thread exits order every write before the resume.
    private func runOnThreads(
        producers: Int,
        producer body: @escaping @Sendable (Int) -> Void,
        consumer: @escaping @Sendable () -> Void
    ) async {
        let group = DispatchGroup()
        func start(_ work: @escaping @Sendable () -> Void) {
            group.enter()
            Thread {
                work()
                group.leave()
            }.start()
        }
        start(consumer)
        for producer in 0..<producers { start { body(producer) } }
        await withCheckedContinuation { continuation in
            group.notify(queue: .global()) { continuation.resume() }
        }
    }
}

/// Written only by its own producer thread; read after all threads finished.
private final class ProducerChecksum: @unchecked Sendable {
    var value = 0
}

/// Written only by the consumer thread; read after all threads finished.
private final class Consumed: @unchecked Sendable {
    var next: [Int]
    var received = 0
    var orderErrors = 0
    var checksum = 0
    init(producers: Int) { next = Array(repeating: 0, count: producers) }
}
