import Foundation
import TollgateRing

/// What one run of `P` producers and one consumer saw.
struct Outcome {
    var seconds: Double
    var received: Int
    var checksum: Int64
    /// Records that arrived out of order for their producer (a skipped or repeated sequence).
    var orderErrors: Int

    var eventsPerSecond: Double { Double(received) / seconds }
}

/// How many records each of `producers` threads sends so that together they send `events`.
func share(of events: Int, producers: Int, producer: Int) -> Int {
    events / producers + (producer < events % producers ? 1 : 0)
}

/// The checksum a correct run must end with: every record of every producer, once.
func expectedChecksum(events: Int, producers: Int) -> Int64 {
    (0..<producers).reduce(Int64(0)) { sum, producer in
        sum &+ Record.expectedChecksum(producer: producer, events: share(of: events, producers: producers, producer: producer))
    }
}

/// Pushes `events` records from `producers` threads through a fresh `Q` to one consumer
/// thread, timing from the moment every thread is ready until the consumer has all of them.
func measure<Q: BenchQueue>(_: Q.Type, producers: Int, events: Int, capacity: Int) -> (Outcome, Q) {
    let queue = Q(capacity: capacity)
    let ready = DispatchSemaphore(value: 0)
    let gate = Gate()
    let finished = DispatchGroup()
    let result = ResultBox()

    for producer in 0..<producers {
        let count = share(of: events, producers: producers, producer: producer)
        startThread(name: "producer-\(producer)", group: finished) {
            ready.signal()
            gate.wait()
            for sequence in 0..<count {
                queue.push(Record(producer: producer, sequence: sequence))
            }
        }
    }
    startThread(name: "consumer", group: finished) {
        var next = [Int64](repeating: 0, count: producers)
        var received = 0
        var checksum: Int64 = 0
        var orderErrors = 0
        var backoff = Backoff()
        ready.signal()
        gate.wait()
        while received < events {
            let taken = queue.drain(max: 256) { record in
                let producer = Int(record.keyID)
                if record.inputTokens != next[producer] { orderErrors += 1 }
                next[producer] = record.inputTokens + 1
                checksum &+= record.checksum
            }
            if taken == 0 {
                backoff.wait()
            } else {
                received += taken
                backoff.reset()
            }
        }
        result.outcome = Outcome(seconds: 0, received: received, checksum: checksum, orderErrors: orderErrors)
    }

    for _ in 0...producers { ready.wait() }
    let start = DispatchTime.now().uptimeNanoseconds
    gate.open()
    finished.wait()
    let elapsed = DispatchTime.now().uptimeNanoseconds - start
    var outcome = result.outcome!
    outcome.seconds = Double(elapsed) / 1e9
    return (outcome, queue)
}

private func startThread(name: String, group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
    group.enter()
    let thread = Thread {
        body()
        group.leave()
    }
    thread.name = name
    thread.start()
}

/// Holds every thread at the start line until the clock starts.
private final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false

    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Written by the consumer thread before it leaves the group; read after `finished.wait()`,
/// which orders the two.
private final class ResultBox: @unchecked Sendable {
    var outcome: Outcome?
}
