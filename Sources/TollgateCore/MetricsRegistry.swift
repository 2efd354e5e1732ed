import Synchronization

/// Counters and gauges rendered in Prometheus text format at `/metrics`.
///
/// Deliberately tiny: names carry their labels (`x_total{reason="checksum"}`), and every
/// update is one short critical section, cheap next to the I/O that triggers it.
public final class MetricsRegistry: Sendable {
    private struct Values {
        var counters: [String: Int64] = [:]
        var gauges: [String: Int64] = [:]
    }

    private let values = Mutex(Values())

    public init() {}

    public func increment(_ name: String, by amount: Int64 = 1) {
        values.withLock { $0.counters[name, default: 0] += amount }
    }

    public func set(_ name: String, _ value: Int64) {
        values.withLock { $0.gauges[name] = value }
    }

    public func value(_ name: String) -> Int64 {
        values.withLock { $0.counters[name] ?? $0.gauges[name] ?? 0 }
    }

    public func prometheusText() -> String {
        let snapshot = values.withLock { $0 }
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
