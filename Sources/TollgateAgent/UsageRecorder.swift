import NIOConcurrencyHelpers
import TollgateCore

/// Hands usage events from the proxy's event loops to the meter thread.
///
/// The proxy appends under a short lock and the meter swaps the whole array out, so the
/// event loops never wait on metering work. (The lock-free ring of issue #5 replaces this.)
final class UsageRecorder: Sendable {
    private let events = NIOLockedValueBox<[UsageEvent]>([])

    func record(_ event: UsageEvent) {
        events.withLockedValue { $0.append(event) }
    }

    func drain() -> [UsageEvent] {
        events.withLockedValue { events in
            defer { events = [] }
            return events
        }
    }
}
