import Foundation

/// Counters and gauges rendered in Prometheus text format at `/metrics`.
///
/// Deliberately tiny: names carry their labels (`x_total{reason="checksum"}`), and every
/// update is one short critical section, cheap next to the I/O that triggers it. The lock
/// is an `NSLock`: on Linux `Synchronization.Mutex` uses priority-inheritance futexes that
/// collapse under contention once threads outnumber cores (see docs/BENCHMARKS.md).
public final class MetricsRegistry: @unchecked Sendable {
    private struct Values {
        var counters: [String: Int64] = [:]
        var gauges: [String: Int64] = [:]
    }

    private let lock = NSLock()
    private var values = Values()

    public init() {}

    public func increment(_ name: String, by amount: Int64 = 1) {
        lock.withLock { values.counters[name, default: 0] += amount }
    }

    public func set(_ name: String, _ value: Int64) {
        lock.withLock { values.gauges[name] = value }
    }

    public func value(_ name: String) -> Int64 {
        lock.withLock { values.counters[name] ?? values.gauges[name] ?? 0 }
    }

    public func prometheusText() -> String {
        let snapshot = lock.withLock { values }
        var lines: [String] = []
        var typed: Set<String> = []
        for (kind, entries) in [("counter", snapshot.counters), ("gauge", snapshot.gauges)] {
            for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
                let family = String(name.prefix { $0 != "{" })
                if typed.insert(family).inserted { lines.append("# TYPE \(family) \(kind)") }
                lines.append("\(name) \(value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
