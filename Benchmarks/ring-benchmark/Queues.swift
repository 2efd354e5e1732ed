import Synchronization
import TollgateRing

/// What the benchmark needs from a queue: many threads push, one thread drains.
protocol BenchQueue: AnyObject, Sendable {
    init(capacity: Int)
    func push(_ record: Record)
    func drain(max: Int, _ body: (Record) -> Void) -> Int
}

extension MPSCRing: BenchQueue where Element == Record {}

/// The baseline: a ring array behind a `Mutex`, with the same capacity and the same
/// back-off when full as `MPSCRing`. `drain` copies a batch out under one lock acquisition
/// and runs `body` outside it, the fastest honest way to consume from a locked queue.
final class MutexQueue: BenchQueue, @unchecked Sendable {
    private struct State {
        var buffer: [Record]
        var head = 0
        var count = 0
    }

    private let state: Mutex<State>
    private let mask: Int
    /// Where `drain` copies a batch to. Only the consumer touches it, so it needs no lock
    /// (hence `@unchecked Sendable`).
    private let batch: UnsafeMutablePointer<Record>

    init(capacity: Int) {
        var rounded = 2
        while rounded < capacity { rounded <<= 1 }
        mask = rounded - 1
        state = Mutex(State(buffer: Array(repeating: Record(), count: rounded)))
        batch = .allocate(capacity: rounded)
        batch.initialize(repeating: Record(), count: rounded)
    }

    deinit {
        batch.deallocate()
    }

    func tryPush(_ record: Record) -> Bool {
        let mask = self.mask
        return state.withLock { state in
            guard state.count <= mask else { return false }
            state.buffer[(state.head &+ state.count) & mask] = record
            state.count += 1
            return true
        }
    }

    func push(_ record: Record) {
        if tryPush(record) { return }
        var backoff = Backoff()
        repeat {
            backoff.wait()
        } while !tryPush(record)
    }

    func drain(max: Int, _ body: (Record) -> Void) -> Int {
        let mask = self.mask
        let batch = self.batch
        let taken = state.withLock { state -> Int in
            let taken = min(max, state.count)
            for offset in 0..<taken {
                batch[offset] = state.buffer[(state.head &+ offset) & mask]
            }
            state.head = (state.head &+ taken) & mask
            state.count -= taken
            return taken
        }
        for offset in 0..<taken { body(batch[offset]) }
        return taken
    }
}
