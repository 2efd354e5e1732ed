import Foundation
import TestSupport
import Testing
import TollgateMockProvider
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Every metric the Grafana dashboard and the Prometheus alert rules in deploy/ query is one
/// the programs really export: a real `tollgate serve` and a real agent run, with a budget
/// and some traffic so per-budget and per-team families exist, and both `/metrics` pages
/// are scraped. A family counts once it is declared (`# HELP`/`# TYPE`), so series with no
/// samples yet still count. A renamed metric fails this test instead of leaving a panel
/// blank or an alert silent.
@Suite(.serialized) struct DeployMetricNamesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Series Prometheus itself makes for every target, not the programs.
    static let madeByPrometheus: Set<String> = ["up", "scrape_duration_seconds", "scrape_samples_scraped"]

    @Test func everyQueriedMetricIsExported() async throws {
        let dashboard = try Self.dashboardExpressions()
        let rules = try Self.ruleExpressions()
        #expect(dashboard.count >= 10, "the dashboard's queries were not found: \(dashboard)")
        #expect(rules.count >= 15, "the rules' expressions were not found: \(rules)")

        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()
        // Families labelled by budget exist once a budget has fired an alert, blocked a
        // request, or would have: a two-request budget and an observe budget under it do all three.
        for (name, mode) in [("deploy-check", "enforce"), ("deploy-check-observe", "observe")] {
            _ = try cluster.cli(["budget", "set", name, "--selector", "team=deploy-check", "--limit", mode == "enforce" ? "2requests" : "1requests",
                                 "--window", "day", "--mode", mode, "--token-file", cluster.apiTokenFile])
        }
        _ = try await eventually(seconds: 10, until: { $0 == 2 }) {
            try await BudgetEnforcementTests.metric("tollgate_agent_quota_budgets", at: cluster.adminURL)
        }
        var statuses: [Int] = []
        for index in 0..<12 where !statuses.contains(429) {
            statuses.append(try await BudgetEnforcementTests.chat(cluster.agentURL, team: "deploy-check", prompt: "request \(index)").status)
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(statuses.contains(429), "the two-request budget never blocked: \(statuses)")
        _ = try await eventually(until: { $0 }) {
            try await MetricsEndpointTests.page(cluster.apiURL).contains("# TYPE tollgate_budget_alerts_total counter")
        }
        let exported = PromQLMetricNames.exported(by: try await MetricsEndpointTests.page(cluster.apiURL))
            .union(PromQLMetricNames.exported(by: try await MetricsEndpointTests.page(cluster.adminURL)))
            .union(Self.madeByPrometheus)

        for (source, expressions) in [("deploy/grafana/tollgate-dashboard.json", dashboard), ("deploy/prometheus/tollgate-rules.yaml", rules)] {
            for (place, expression) in expressions {
                let names = PromQLMetricNames.names(in: expression)
                #expect(!names.isEmpty, "\(source) \(place) reads no metric: \(expression)")
                for name in names where !exported.contains(name) {
                    Issue.record("\(source) \(place) queries \(name), which neither tollgate serve nor tollgate-agent exports")
                }
            }
        }
    }

    /// Each panel's and template variable's query, by where it is (`panel "Spend by team"`).
    static func dashboardExpressions() throws -> [(String, String)] {
        let data = try Data(contentsOf: root.appendingPathComponent("deploy/grafana/tollgate-dashboard.json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        var found: [(String, String)] = []
        func panels(_ list: [[String: Any]]) {
            for panel in list {
                let title = panel["title"] as? String ?? "?"
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    if let expr = target["expr"] as? String { found.append(("panel \"\(title)\"", expr)) }
                }
                panels(panel["panels"] as? [[String: Any]] ?? [])
            }
        }
        panels(json["panels"] as? [[String: Any]] ?? [])
        for variable in (json["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] where variable["type"] as? String == "query" {
            let query = variable["query"]
            let text = (query as? String) ?? ((query as? [String: Any])?["query"] as? String) ?? ""
            found.append(("variable \(variable["name"] as? String ?? "?")", text))
        }
        return found
    }

    /// Each rule's `expr`, by alert name. The file's layout is fixed by its own check
    /// (promtool check rules): `expr:` on one line, or `expr: |` and a more indented block.
    static func ruleExpressions() throws -> [(String, String)] {
        let lines = try String(contentsOf: root.appendingPathComponent("deploy/prometheus/tollgate-rules.yaml"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [(String, String)] = []
        var alert = "?"
        var index = 0
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("- alert:") || trimmed.hasPrefix("- record:") {
                alert = String(trimmed.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces)
            } else if trimmed.hasPrefix("expr:") {
                let value = trimmed.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces)
                if value == "|" || value == ">" {
                    var block: [String] = []
                    while index + 1 < lines.count, lines[index + 1].trimmingCharacters(in: .whitespaces).isEmpty || indent(lines[index + 1]) > indent(line) {
                        index += 1
                        block.append(lines[index])
                    }
                    found.append(("alert \(alert)", block.joined(separator: "\n")))
                } else {
                    found.append(("alert \(alert)", value))
                }
            }
            index += 1
        }
        return found
    }
}

/// The metric-name extractor the test above relies on: names found, functions, keywords,
/// labels, durations and Grafana variables left out.
struct PromQLMetricNamesTests {
    @Test(arguments: [
        ("sum by (team) (increase(tollgate_spend_usd_total{team=~\"$team\"}[$__rate_interval]))", ["tollgate_spend_usd_total"]),
        ("histogram_quantile(0.99, sum by (le, provider) (rate(tollgate_agent_request_duration_seconds_bucket[5m])))",
         ["tollgate_agent_request_duration_seconds_bucket"]),
        ("tollgate_budget_spent / tollgate_budget_limit >= 0.9 and tollgate_budget_limit > 0", ["tollgate_budget_spent", "tollgate_budget_limit"]),
        ("sum(increase(a_total[7d] offset 1d)) without (instance) / 7", ["a_total"]),
        ("topk(10, sum by (key) (rate(x_total[1h]))) * on (key) group_left (name) key_info", ["x_total", "key_info"]),
        ("label_values(tollgate_budget_limit, budget)", ["tollgate_budget_limit"]),
        ("label_values(team)", []),
        ("rate(b_total[1h30m]) > bool 1e-9 or vector(0)", ["b_total"]),
        ("tollgate_fleet_agents{state=\"stale\", instance=~\"${instance:regex}\"}", ["tollgate_fleet_agents"]),
        ("max(c) by (budget) unless d", ["c", "d"]),
    ])
    func extractsMetricNames(expression: String, expected: [String]) {
        #expect(PromQLMetricNames.names(in: expression) == expected)
    }

    @Test func exportedNamesIncludeDeclaredFamiliesAndHistogramSeries() {
        let page = """
        # HELP a_total A counter with no samples yet.
        # TYPE a_total counter
        # HELP h_seconds A histogram.
        # TYPE h_seconds histogram
        h_seconds_bucket{le="+Inf"} 1
        g{x="1"} 2.0
        """
        let names = PromQLMetricNames.exported(by: page)
        #expect(names == ["a_total", "h_seconds", "h_seconds_bucket", "h_seconds_sum", "h_seconds_count", "g"])
    }
}
