import Foundation
import Prometheus

/// A gauge per value of one label, all made at start: the reconciliation's per-provider
/// gauges, whose providers are known in advance.
final class GaugeFamily: Sendable {
    private let gauges: [String: Gauge]

    init(_ registry: PrometheusCollectorRegistry, name: String, help: String, label: String, known: [String]) {
        var gauges: [String: Gauge] = [:]
        for value in known { gauges[value] = registry.makeGauge(descriptor: .named(name, help: help), labels: [(label, value)]) }
        self.gauges = gauges
    }

    func callAsFunction(_ value: String) -> Gauge {
        guard let gauge = gauges[value] else { preconditionFailure("no gauge for label value \(value)") }
        return gauge
    }
}
