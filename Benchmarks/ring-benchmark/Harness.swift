import Foundation
import Synchronization
import TollgateRing

/// What one run of `P` producers and one consumer saw.
struct Outcome {
    var seconds: Double
    /// Records the producers pushed: all that were asked for, unless the run hit its time cap.
    var sent: Int
    var received: Int
    var checksum: Int64
    /// What `checksum` must be if every sent record arrived exactly once.
    var expectedChecksum: Int64
    /// Records that arrived out of order for their producer (a skipped or repeated sequence).
    var orderErrors: Int
    var hitTimeCap: Bool

    var eventsPerSecond: Double { Double(received) / seconds }
    var isCorrect: Bool { received == sent && checksum == expectedChecksum && orderErrors == 0 }
}

/// How many records each of `producers` threads sends so that together they send `events`.
func share(of events: Int, producers: Int, producer: Int) -> Int {
    events / producers + (producer < events % producers ? 1 : 0)
}

/// Pushes `events` records from `producers` threads through a fresh `Q` to one consumer
/// thread, timing from the moment every thread is ready until the consumer has all of them.
///
/// With `maxSeconds`, producers stop early once that much time has passed (a lock convoy can
/// slow a run a thousandfold); the rate then covers the records sent until then.
func measure<Q: BenchQueue>(
    _: Q.Type, producers: Int, events: Int, capacity: Int, maxSeconds: Double? = nil
) -> (Outcome, Q) {
    let queue = Q(capacity: capacity)
    let run = RunState(producers: producers)
    let ready = DispatchSemaphore(value: 0)
    let gate = Gate()
    let finished = DispatchGroup()

    for producer in 0..<producers {
        let count = share(of: events, producers: producers, producer: producer)
        startThread(name: "producer-\(producer)", group: finished) {
            ready.signal()
            gate.wait()
            var sent = 0
            while sent < count, !run.stop.load(ordering: .relaxed) {
                queue.push(Record(producer: producer, sequence: sent))
                sent += 1
            }
            run.sent[producer].value = sent
            run.finishedProducers.add(1, ordering: .releasing)
        }
    }
    startThread(name: "consumer", group: finished) {
        var next = [Int64](repeating: 0, count: producers)
        var outcome = Outcome(
            seconds: 0, sent: 0, received: 0, checksum: 0, expectedChecksum: 0, orderErrors: 0, hitTimeCap: false
        )
        var backoff = Backoff()
        ready.signal()
        gate.wait()
        func take(_ record: Record) {
            let producer = Int(record.keyID)
            if record.inputTokens != next[producer] { outcome.orderErrors += 1 }
            next[producer] = record.inputTokens + 1
            outcome.checksum &+= record.checksum
        }
        while true {
            let taken = queue.drain(max: 256, take)
            outcome.received += taken
            if taken > 0 {
                backoff.reset()
            } else if run.finishedProducers.load(ordering: .acquiring) == producers {
                // Every push happened before that acquire, so one more drain takes the rest.
                outcome.received += queue.drain(max: .max, take)
                break
            } else {
                backoff.wait()
            }
        }
        run.outcome = outcome
    }

    for _ in 0...producers { ready.wait() }
    let start = DispatchTime.now().uptimeNanoseconds
    gate.open()
    var hitTimeCap = false
    if let maxSeconds, finished.wait(timeout: .now() + maxSeconds) == .timedOut {
        run.stop.store(true, ordering: .relaxed)
        hitTimeCap = true
    }
    finished.wait()
    let elapsed = DispatchTime.now().uptimeNanoseconds - start

    var outcome = run.outcome!
    outcome.seconds = Double(elapsed) / 1e9
    outcome.hitTimeCap = hitTimeCap
    for producer in 0..<producers {
        let sent = run.sent[producer].value
        outcome.sent += sent
        outcome.expectedChecksum &+= Record.expectedChecksum(producer: producer, events: sent)
    }
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

/// What the threads of one run share. The plain fields are each written by one thread and
/// read by the main thread only after `finished.wait()`, which orders the two.
private final class RunState: @unchecked Sendable {
    final class Count { var value = 0 }

    let stop = Atomic<Bool>(false)
    let finishedProducers = Atomic<Int>(0)
    let sent: [Count]
    var outcome: Outcome?

    init(producers: Int) {
        sent = (0..<producers).map { _ in Count() }
    }
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
