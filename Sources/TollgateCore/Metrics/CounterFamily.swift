import Foundation
import Prometheus

/// A counter family whose series differ by label values, for the call sites that only know
/// the values at run time (a budget id, a rejection reason read off an error).
///
/// The values known in advance get their series when the family is made, so they export 0
/// before their first event: an alert on `increase(…[5m]) > 0` cannot fire on a series
/// that does not exist yet. Any other value gets its series the first time it is seen, and
/// keeps it. Hot paths should hold the `Counter` itself rather than look it up here.
public final class CounterFamily: @unchecked Sendable {
    public let name: String
    private let help: String
    private let labelNames: [String]
    private let registry: PrometheusCollectorRegistry
    // NSLock rather than `Synchronization.Mutex`: on Linux the latter's priority-inheritance
    // futexes collapse under contention once threads outnumber cores (docs/BENCHMARKS.md).
    private let lock = NSLock()
    private var series: [[String]: Counter] = [:]

    /// `known` lists label values in the order of `labels`, one array per series.
    public init(_ registry: PrometheusCollectorRegistry, name: String, help: String, labels: [String], known: [[String]] = []) {
        precondition(!labels.isEmpty, "a family without labels is a plain Counter")
        self.registry = registry
        self.name = name
        self.help = help
        labelNames = labels
        for values in known { series[values] = make(values) }
    }

    /// The series of these label values, in the order of the family's labels.
    public func callAsFunction(_ values: String...) -> Counter {
        lock.withLock {
            if let counter = series[values] { return counter }
            let counter = make(values)
            series[values] = counter
            return counter
        }
    }

    private func make(_ values: [String]) -> Counter {
        precondition(values.count == labelNames.count, "\(name) takes labels \(labelNames)")
        return registry.makeCounter(descriptor: .named(name, help: help), labels: Array(zip(labelNames, values)))
    }
}
