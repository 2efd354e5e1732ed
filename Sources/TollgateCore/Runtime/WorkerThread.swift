import Foundation
import NIOConcurrencyHelpers

/// A named thread running one loop that owns thread-bound resources (ZeroMQ sockets must
/// stay on the thread that made them), and a way to wait for its end without polling:
/// `join()` blocks the caller, `finished()` suspends a task.
public final class WorkerThread: Sendable {
    private struct State {
        var done = false
        var waiters: [@Sendable () -> Void] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Starts `body` on a new thread called `name`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [state] in
            body()
            let waiters = state.withLockedValue { state in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for wake in waiters { wake() }
        }
        thread.name = name
        thread.start()
    }

    /// Starts `body` on a new thread called `name` and waits until it reports how its setup
    /// went (binding its sockets, say) through `ready`: returns the value it passed, or
    /// throws the error, once the thread has ended. `body` must call `ready` exactly once.
    public static func start<Value: Sendable>(
        name: String, _ body: @escaping @Sendable (_ ready: @escaping @Sendable (Result<Value, Error>) -> Void) -> Void
    ) throws -> (thread: WorkerThread, value: Value) {
        let reported = ConditionLock(value: false)
        let outcome = NIOLockedValueBox<Result<Value, Error>?>(nil)
        let thread = WorkerThread(name: name) {
            body { result in
                outcome.withLockedValue { $0 = result }
                reported.lock()
                reported.unlock(withValue: true)
            }
        }
        reported.lock(whenValue: true)
        reported.unlock()
        do {
            return (thread, try outcome.withLockedValue { $0! }.get())
        } catch {
            thread.join()
            throw error
        }
    }

    public var isFinished: Bool { state.withLockedValue { $0.done } }

    /// Blocks until the loop has returned.
    public func join() {
        let done = ConditionLock(value: false)
        whenFinished {
            done.lock()
            done.unlock(withValue: true)
        }
        done.lock(whenValue: true)
        done.unlock()
    }

    /// Suspends until the loop has returned.
    public func finished() async {
        await withCheckedContinuation { continuation in
            whenFinished { continuation.resume() }
        }
    }

    /// Calls `wake` once the loop has returned: at once if it already has, else on its thread.
    private func whenFinished(_ wake: @escaping @Sendable () -> Void) {
        let already = state.withLockedValue { state in
            if !state.done { state.waiters.append(wake) }
            return state.done
        }
        if already { wake() }
    }
}
