import Foundation
import TollgateRing

/// `--stress`: a short, heavily contended run that checks every record arrived once and in
/// order. Small enough to run under ThreadSanitizer (scripts/tsan-ring.sh).
func runStress() -> Bool {
    let producers = 4
    let events = producers * 250_000
    let capacity = 256
    let (outcome, ring) = measure(MPSCRing<Record>.self, producers: producers, events: events, capacity: capacity)
    let expected = expectedChecksum(events: events, producers: producers)
    let ok = outcome.received == events && outcome.checksum == expected && outcome.orderErrors == 0
        && ring.approximateCount == 0 && ring.pop() == nil
    print("""
        stress: \(producers) producers x \(events / producers) records, capacity \(capacity): \
        received \(outcome.received)/\(events), checksum \(outcome.checksum == expected ? "ok" : "MISMATCH"), \
        order errors \(outcome.orderErrors), full waits \(ring.fullWaits), \
        \(String(format: "%.2f", outcome.seconds)) s → \(ok ? "OK" : "FAILED")
        """)
    return ok
}
