import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Bounds how often refused batches are logged: at most `perMinute` lines per refusal kind
/// per minute. An agent refused for good resends the same batch forever; the log must name
/// the problem without being flooded by it (`tollgate_ingest_rejected_total` counts every one).
final class RefusalLogLimiter: Sendable {
    static let perMinute = 5
    private let clock: ServiceClock
    private let state = NIOLockedValueBox<[BatchRefusal: (windowStart: ServiceClock.Instant, count: Int)]>([:])

    init(clock: ServiceClock) {
        self.clock = clock
    }

    /// Whether a refusal of this kind may be logged now.
    func allow(_ refusal: BatchRefusal) -> Bool {
        let now = clock.now
        return state.withLockedValue { windows in
            if let window = windows[refusal], window.windowStart.duration(to: now) < .seconds(60) {
                windows[refusal] = (window.windowStart, window.count + 1)
                return window.count < Self.perMinute
            }
            windows[refusal] = (now, 1)
            return true
        }
    }
}
