import Foundation
import TollgateRing

/// `--stress`: short, heavily contended runs that check every record arrived once and in
/// order. Small enough to run under ThreadSanitizer (scripts/tsan-ring.sh).
func runStress() -> Bool {
    let producers = 4
    let events = producers * 250_000
    let capacity = 256
    return stress(MPSCRing<Record>.self, label: "MPSCRing<Record>", producers: producers, events: events, capacity: capacity)
        && stress(ParcelRing.self, label: "MPSCRing<Parcel>", producers: producers, events: events, capacity: capacity)
}

private protocol StressedQueue: BenchQueue {
    var fullWaits: Int { get }
    var approximateCount: Int { get }
    var isEmpty: Bool { get }
}

extension MPSCRing: StressedQueue where Element == Record {
    var isEmpty: Bool { pop() == nil }
}

private func stress<Q: StressedQueue>(_ type: Q.Type, label: String, producers: Int, events: Int, capacity: Int) -> Bool {
    let (outcome, ring) = measure(type, producers: producers, events: events, capacity: capacity)
    let ok = outcome.isCorrect && outcome.sent == events && ring.approximateCount == 0 && ring.isEmpty
    print("""
        stress: \(label), \(producers) producers x \(events / producers) records, capacity \(capacity): \
        received \(outcome.received)/\(events), checksum \(outcome.checksum == outcome.expectedChecksum ? "ok" : "MISMATCH"), \
        order errors \(outcome.orderErrors), full waits \(ring.fullWaits), \
        \(String(format: "%.2f", outcome.seconds)) s → \(ok ? "OK" : "FAILED")
        """)
    return ok
}

/// A record's identity in a heap box, for ThreadSanitizer's sake. In a debug build the ring
/// is unspecialized and moves each element through value witnesses in the Swift runtime,
/// which TSan does not instrument, and TSan also misses races on a struct copied whole with
/// memcpy. A box's scalar fields, though, are written by the producer and read by the
/// consumer in this instrumented module: if the ring published an element without
/// release/acquire, TSan reports a race on them (checked by making the publishing store
/// relaxed: it does).
private final class Parcel: @unchecked Sendable {
    let producer: Int
    let sequence: Int

    init(producer: Int, sequence: Int) {
        self.producer = producer
        self.sequence = sequence
    }
}

private final class ParcelRing: StressedQueue {
    private let ring: MPSCRing<Parcel>

    init(capacity: Int) { ring = MPSCRing(capacity: capacity) }

    func push(_ record: Record) {
        ring.push(Parcel(producer: Int(record.keyID), sequence: Int(record.inputTokens)))
    }

    func drain(max: Int, _ body: (Record) -> Void) -> Int {
        ring.drain(max: max) { parcel in body(Record(producer: parcel.producer, sequence: parcel.sequence)) }
    }

    var fullWaits: Int { ring.fullWaits }
    var approximateCount: Int { ring.approximateCount }
    var isEmpty: Bool { ring.pop() == nil }
}
