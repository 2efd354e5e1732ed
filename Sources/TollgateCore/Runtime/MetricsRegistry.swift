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
        var histograms: [String: Histogram] = [:]
    }

    /// Cumulative buckets in the Prometheus sense; bounds in seconds.
    private struct Histogram {
        var bounds: [Double]
        var counts: [Int64]
        var sum: Double = 0
        var count: Int64 = 0

        mutating func record(_ value: Double) {
            for index in bounds.indices where value <= bounds[index] { counts[index] += 1 }
            sum += value
            count += 1
        }
    }

    /// Latency buckets from 100 µs to 60 s: the proxy's own overhead sits at the bottom,
    /// long LLM generations at the top.
    public static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private let lock = NSLock()
    private var values = Values()

    public init() {}

    public func increment(_ name: String, by amount: Int64 = 1) {
        lock.withLock { values.counters[name, default: 0] += amount }
    }

    public func set(_ name: String, _ value: Int64) {
        lock.withLock { values.gauges[name] = value }
    }

    /// Records one observation; `name` may carry labels, `bounds` must be the same for a name.
    public func observe(_ name: String, _ value: Double, bounds: [Double] = MetricsRegistry.latencyBuckets) {
        lock.withLock {
            // Mutated in place: a copy out and back would reallocate both arrays every time.
            values.histograms[name, default: Histogram(bounds: bounds, counts: Array(repeating: 0, count: bounds.count))].record(value)
        }
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
        for (name, histogram) in snapshot.histograms.sorted(by: { $0.key < $1.key }) {
            let family = String(name.prefix { $0 != "{" })
            let labels = name.dropFirst(family.count).dropFirst().dropLast()  // inside the braces
            let joiner = labels.isEmpty ? "" : ","
            if typed.insert(family).inserted { lines.append("# TYPE \(family) histogram") }
            for (bound, count) in zip(histogram.bounds, histogram.counts) {
                lines.append("\(family)_bucket{\(labels)\(joiner)le=\"\(bound)\"} \(count)")
            }
            lines.append("\(family)_bucket{\(labels)\(joiner)le=\"+Inf\"} \(histogram.count)")
            let suffix = labels.isEmpty ? "" : "{\(labels)}"
            lines.append("\(family)_sum\(suffix) \(histogram.sum)")
            lines.append("\(family)_count\(suffix) \(histogram.count)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
