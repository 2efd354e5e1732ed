import NIOConcurrencyHelpers
import Synchronization
import TollgateCore

/// How many exchanges are being forwarded right now, so shutdown can wait for them: the
/// wait ends the moment the last one does (`end` wakes it), not at the next tick of a poll.
///
/// Every request calls `begin` and `end`, so the count is an atomic; the lock is taken only
/// when the count reaches 0, to wake a drain that may be waiting.
final class InFlightRequests: Sendable {
    /// A drain waiting for the count to reach 0, with the timer that gives up on it.
    private struct Waiter {
        var wake: CheckedContinuation<Bool, Never>
        var timer: Task<Void, Never>
    }

    private struct Waiters {
        var next = 0
        var waiting: [Int: Waiter] = [:]
    }

    private let count = Atomic<Int>(0)
    private let waiters = NIOLockedValueBox(Waiters())

    func begin() { count.add(1, ordering: .relaxed) }

    func end() {
        // A drain registers under the lock after reading a non-zero count, so whichever of
        // the two takes the lock second sees the other: no wake-up is lost.
        guard count.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 else { return }
        let drained = waiters.withLockedValue { waiters -> [Waiter] in
            defer { waiters.waiting = [:] }
            return Array(waiters.waiting.values)
        }
        for waiter in drained {
            waiter.timer.cancel()
            waiter.wake.resume(returning: true)
        }
    }

    var current: Int { count.load(ordering: .relaxed) }

    /// Returns true once nothing is in flight, or false when `timeout` passes on `clock` first.
    func drained(within timeout: Duration, clock: ServiceClock) async -> Bool {
        await withCheckedContinuation { (wake: CheckedContinuation<Bool, Never>) in
            waiters.withLockedValue { waiters in
                guard count.load(ordering: .sequentiallyConsistent) > 0 else { return wake.resume(returning: true) }
                let id = waiters.next
                waiters.next += 1
                let timer = Task { [self] in
                    // Cancelled when the drain completes first; then nothing is left to resume.
                    guard (try? await clock.sleep(for: timeout)) != nil else { return }
                    giveUp(waiter: id)
                }
                waiters.waiting[id] = Waiter(wake: wake, timer: timer)
            }
        }
    }

    private func giveUp(waiter id: Int) {
        let waiter = waiters.withLockedValue { $0.waiting.removeValue(forKey: id) }
        waiter?.wake.resume(returning: false)
    }
}
