import NIOConcurrencyHelpers
import TollgateCore

/// How many exchanges are being forwarded right now, so shutdown can wait for them: the
/// wait ends the moment the last one does (`end` wakes it), not at the next tick of a poll.
final class InFlightRequests: Sendable {
    /// A drain waiting for the count to reach 0, with the timer that gives up on it.
    private struct Waiter {
        var wake: CheckedContinuation<Bool, Never>
        var timer: Task<Void, Never>
    }

    private struct State {
        var count = 0
        var nextWaiter = 0
        var waiters: [Int: Waiter] = [:]
    }

    private let state = NIOLockedValueBox(State())

    func begin() { state.withLockedValue { $0.count += 1 } }

    func end() {
        let drained = state.withLockedValue { state -> [Waiter] in
            state.count -= 1
            guard state.count == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in drained {
            waiter.timer.cancel()
            waiter.wake.resume(returning: true)
        }
    }

    var current: Int { state.withLockedValue { $0.count } }

    /// Returns true once nothing is in flight, or false when `timeout` passes on `clock` first.
    func drained(within timeout: Duration, clock: ServiceClock) async -> Bool {
        await withCheckedContinuation { (wake: CheckedContinuation<Bool, Never>) in
            state.withLockedValue { state in
                guard state.count > 0 else { return wake.resume(returning: true) }
                let id = state.nextWaiter
                state.nextWaiter += 1
                let timer = Task { [self] in
                    // Cancelled when the drain completes first; then nothing is left to resume.
                    guard (try? await clock.sleep(for: timeout)) != nil else { return }
                    giveUp(waiter: id)
                }
                state.waiters[id] = Waiter(wake: wake, timer: timer)
            }
        }
    }

    private func giveUp(waiter id: Int) {
        let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
        waiter?.wake.resume(returning: false)
    }
}
