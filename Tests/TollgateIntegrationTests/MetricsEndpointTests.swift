import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Both `/metrics` pages, as a Prometheus server scrapes them from running processes, pass
/// Prometheus' own linter: every family has `# HELP` and a type, counters end in `_total`,
/// label values are escaped.
@Suite(.serialized) struct MetricsEndpointTests {
    @Test(.enabled(if: Promtool.path != nil, "\(Promtool.missing)"))
    func bothEndpointsPassPromtoolCheckMetrics() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        // Some traffic, so the page has labelled series with values and histogram buckets filled.
        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 1), models: ["gpt-4o-mini"], requests: 4, concurrency: 2)
        _ = try await runTraffic(plan: plan, baseURL: cluster.agentURL.appendingPathComponent("openai"))
        _ = try await eventually(until: { $0 > 0 }) {
            MetricsText(try await Self.page(cluster.apiURL))["tollgate_ingest_batches_applied_total"] ?? 0
        }

        for (component, url) in [("agent", cluster.adminURL), ("aggregator", cluster.apiURL)] {
            let page = try await Self.page(url)
            let problems = try Promtool.problems(in: page)
            #expect(problems == nil, "\(component) /metrics: \(problems ?? "")")
            #expect(MetricsText(page)["tollgate_build_info{component=\"\(component)\",version=\"\(TollgateVersion.current)\"}"] == 1)
        }
    }

    static func page(_ base: URL) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: base.appendingPathComponent("metrics"))
        return String(decoding: data, as: UTF8.self)
    }
}
