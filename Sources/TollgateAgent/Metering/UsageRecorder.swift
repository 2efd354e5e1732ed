import TollgateCore
import TollgateRing

/// Hands usage events from the proxy's event loops to the shipper thread through a
/// lock-free ring, so an event loop never waits on a lock or on metering work.
///
/// The ring never drops: when it is full (the shipper stalled, e.g. on a slow disk) a
/// producer backs off until there is room, and `fullWaits` counts each such wait.
final class UsageRecorder: @unchecked Sendable {
    private let ring: MPSCRing<UsageEvent>

    init(capacity: Int) {
        ring = MPSCRing(capacity: capacity)
    }

    func record(_ event: UsageEvent) {
        ring.push(event)
    }

    /// Only the shipper thread may call this (the ring has a single consumer).
    func drain() -> [UsageEvent] {
        var events: [UsageEvent] = []
        _ = ring.drain(max: ring.capacity) { events.append($0) }
        return events
    }

    var fullWaits: Int { ring.fullWaits }
    var approximateCount: Int { ring.approximateCount }
}
