import TollgateCore
import TollgateRing

/// One event as the meter receives it: which epoch (batch) it belongs to, whether its
/// record reached the event log (false while the disk refuses writes: then only memory
/// holds it), and the quota ledger's ticket for its spend (0: none), which the shipper hands
/// back when it cuts the event into a batch (`LocalSpend`).
struct RecordedUsage {
    var event: UsageEvent
    var epoch: UInt64
    var logged: Bool
    var ticket: LocalSpend.Ticket = 0
}

/// Makes an exchange's usage crash-safe on the calling event loop and hands it to the
/// shipper thread through a lock-free ring, so an event loop never waits on metering work.
///
/// `record` appends the event's record to the current epoch's log (one `write(2)`, no fsync)
/// and pushes it to the ring while still inside that epoch, so the meter cannot cut the epoch
/// between the two (see `EventLog`). The ring never drops: when it is full (the shipper
/// stalled) a producer backs off until there is room, and `fullWaits` counts each such wait.
final class UsageRecorder: @unchecked Sendable {
    private let ring: MPSCRing<RecordedUsage>
    let log: EventLog

    init(capacity: Int, log: EventLog) {
        ring = MPSCRing(capacity: capacity)
        self.log = log
    }

    /// `ticket` is the quota book's ticket for the event's spend: settle first, then record.
    func record(_ event: UsageEvent, ticket: LocalSpend.Ticket = 0) {
        log.withCurrentEpoch { file in
            // No file yet means the shipper has not recovered the spool: epoch 0 is below
            // every cut seq, and the meter folds such events into its first batch.
            guard let file else {
                ring.push(RecordedUsage(event: event, epoch: 0, logged: false, ticket: ticket))
                return
            }
            let logged = log.append(EventRecord.encode(event, epoch: file.epoch), to: file)
            ring.push(RecordedUsage(event: event, epoch: file.epoch, logged: logged, ticket: ticket))
        }
    }

    /// Only the shipper thread may call this (the ring has a single consumer).
    func drain() -> [RecordedUsage] {
        var events: [RecordedUsage] = []
        _ = ring.drain(max: ring.capacity) { events.append($0) }
        return events
    }

    var fullWaits: Int { ring.fullWaits }
    var approximateCount: Int { ring.approximateCount }
}
