import TollgateCore
import TollgateRing

/// Hands usage events from the proxy's event loops to the shipper thread through a
/// lock-free ring, so an event loop never waits on a lock or on metering work.
///
/// The ring never drops: when it is full (the shipper stalled, e.g. on a slow disk) a
/// producer backs off until there is room, and `fullWaits` counts each such wait.
final class UsageRecorder: @unchecked Sendable {
    private let ring: MPSCRing<Recorded>

    /// An event, and the quota ledger's ticket for its spend (0: none), which the shipper
    /// hands back when it cuts the event into a batch (`LocalSpend`).
    struct Recorded {
        var event: UsageEvent
        var ticket: LocalSpend.Ticket
    }

    init(capacity: Int) {
        ring = MPSCRing(capacity: capacity)
    }

    func record(_ event: UsageEvent, ticket: LocalSpend.Ticket = 0) {
        ring.push(Recorded(event: event, ticket: ticket))
    }

    /// Only the shipper thread may call this (the ring has a single consumer).
    func drain() -> [Recorded] {
        var events: [Recorded] = []
        _ = ring.drain(max: ring.capacity) { events.append($0) }
        return events
    }

    var fullWaits: Int { ring.fullWaits }
    var approximateCount: Int { ring.approximateCount }
}
