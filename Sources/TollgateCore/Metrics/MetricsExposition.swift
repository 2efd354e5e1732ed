import Prometheus

/// What the agent's and the aggregator's `/metrics` have in common.
public enum MetricsExposition {
    /// Prometheus' text exposition format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// `tollgate_build_info{component,version} 1`: the conventional way to put a version on a
    /// dashboard, or onto other series with `* on(instance) group_left(version)`.
    public static func registerBuildInfo(in registry: PrometheusCollectorRegistry, component: String) {
        registry.makeGauge(
            descriptor: .named("tollgate_build_info", help: "Always 1; the labels say which Tollgate component and version this process runs."),
            labels: [("component", component), ("version", TollgateVersion.current)]
        ).set(to: 1)
    }
}

extension MetricNameDescriptor {
    /// A family named in full (`tollgate_agent_requests_total`) rather than from namespace,
    /// subsystem and unit parts, so the name an operator sees is the name `grep` finds.
    public static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
