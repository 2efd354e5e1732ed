import Foundation
import TestSupport
import Testing
import TollgateAggregator
import TollgateCore
import TollgateWire
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The aggregator's spend series, forecasts, anomalies and suggested budgets, from real
/// processes: history written into the aggregator's store before it starts, today's usage
/// sent through a real agent to the mock provider. Ground truth is the store (`/v1/usage`).
@Suite(.serialized) struct SpendInsightsTests {
    static let dollar = Nanodollars.perDollar

    /// Previous days' usage, as if agents had shipped it then: hist-a 60 days at $2 (5 of them
    /// $4), ml $0.000001 on each of the 7 previous days, web $100 on each.
    static func writeHistory(dataDirectory: String, now: Int64) throws {
        let today = now / 86_400
        func cell(_ back: Int64, _ team: String, _ cost: Int64) -> Cell {
            var dimensions = Dimensions()
            dimensions.provider = "openai"
            dimensions.model = "gpt-4o"
            dimensions.team = team
            dimensions.keyID = "history-key-\(team)"
            var counters = UsageCounters()
            counters.requests = 1
            counters.cost = Nanodollars(cost)
            return Cell(key: CellKey(minute: (today - back) * 1_440, dimensions: dimensions), counters: counters)
        }
        var cells: [Cell] = []
        for back in Int64(1)...60 { cells.append(cell(back, "hist-a", back % 12 == 0 ? 4 * dollar : 2 * dollar)) }
        for back in Int64(1)...7 {
            cells.append(cell(back, "ml", 1_000))
            cells.append(cell(back, "web", 100 * dollar))
        }
        let store = try UsageStore(directory: dataDirectory)
        defer { store.close() }
        #expect(try store.apply(UsageBatchMessage(agentID: "history", seq: 1, floorSeq: 0, cells: cells)) == .applied)
    }

    static func page(_ cluster: LocalCluster) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: cluster.apiURL.appendingPathComponent("metrics"))
        return String(decoding: data, as: UTF8.self)
    }

    func json(_ cluster: LocalCluster, _ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try cluster.cli(arguments + ["--token-file", cluster.apiTokenFile, "--format", "json"]).utf8))
    }

    @Test func seriesForecastsAnomaliesAndSuggestionsAgreeWithTheStore() async throws {
        let cluster = try LocalCluster { _, _ in "anomalies:\n  min_spend_usd: 0.000001\n  interval_ms: 1000\n" }
        defer { cluster.shutdown() }
        try Self.writeHistory(dataDirectory: cluster.directory.appendingPathComponent("aggregator-data").path,
                              now: Int64(Date().timeIntervalSince1970))
        try await cluster.start()
        _ = try cluster.cli(["budget", "set", "ml-daily", "--selector", "team=ml", "--limit", "1000usd", "--window", "day",
                             "--token-file", cluster.apiTokenFile])

        for (index, route) in ["openai", "anthropic", "gemini", "openai", "anthropic", "openai"].enumerated() {
            let team = index < 4 ? "ml" : "web"
            let answer = try await BudgetEnforcementTests.chat(cluster.agentURL, team: team, prompt: "insight \(index)", route: route)
            #expect(answer.status == 200, "\(answer.body)")
        }

        // The counters equal the store's totals since the aggregator started (history came before it).
        func usage() throws -> [[String: Any]] {
            let text = try cluster.cli(["usage", "--since", "1h", "--by", "provider,model,team", "--format", "json"])
            return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
        }
        func mismatches(_ rows: [[String: Any]], _ page: String) -> [String] {
            let text = MetricsText(page)
            var wrong: [String] = []
            for row in rows {
                let labels = "provider=\"\(row["provider"] as? String ?? "")\",model=\"\(row["model"] as? String ?? "")\",team=\"\(row["team"] as? String ?? "")\""
                if !page.contains("tollgate_spend_usd_total{\(labels)} \(row["cost_usd"] as? String ?? "?")\n") { wrong.append("spend \(labels)") }
                for (name, field) in [("input", "input_tokens"), ("cached_input", "cached_input_tokens"), ("cache_write", "cache_write_tokens"),
                                      ("cache_write_1h", "cache_write_1h_tokens"), ("output", "output_tokens"), ("reasoning", "reasoning_tokens")] {
                    if text["tollgate_tokens_total{\(labels),class=\"\(name)\"}"] != Double(row[field] as? Int ?? -1) { wrong.append("\(name) \(labels)") }
                }
            }
            return wrong
        }
        let settled = try await eventually(until: { $0.rows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 6 && $0.wrong.isEmpty }) {
            let rows = try usage()
            let page = try await Self.page(cluster)
            return (rows: rows, wrong: mismatches(rows, page), page: page)
        }
        #expect(settled.wrong.isEmpty, "\(settled.wrong)\n\(settled.page)")
        #expect(Set(settled.rows.compactMap { $0["provider"] as? String }) == ["openai", "anthropic", "gemini"])
        let problems = try Promtool.problems(in: settled.page)
        #expect(Promtool.path == nil || problems == nil, "\(problems ?? "")")

        // The budget's gauges and forecast, in dollars, equal its status.
        let mlSpend = settled.rows.filter { $0["team"] as? String == "ml" }.reduce(Int64(0)) { $0 + Int64($1["cost_nanousd"] as? Int ?? 0) }
        let page = MetricsText(try await Self.page(cluster))
        #expect(page[#"tollgate_budget_spent{budget="ml-daily",unit="usd"}"#] == Double(Nanodollars(mlSpend).decimalUSD))
        #expect(page[#"tollgate_budget_limit{budget="ml-daily",unit="usd"}"#] == 1_000)
        #expect((page[#"tollgate_budget_forecast{budget="ml-daily",unit="usd"}"#] ?? 0) >= Double(mlSpend) / 1e9)
        let listed = try json(cluster, ["budget", "list"]) as? [[String: Any]] ?? []
        let forecast = (listed.first?["status"] as? [String: Any])?["forecast"] as? [String: Any]
        #expect((forecast?["at_window_end"] as? Int ?? 0) >= Int(mlSpend), "\(listed)")
        let table = try cluster.cli(["budget", "list", "--token-file", cluster.apiTokenFile])
        #expect(table.contains("FORECAST") && table.contains("RUNS OUT"), "\(table)")

        // ml spent far more than its tiny normal today; web far less than its $100.
        let anomalies = try json(cluster, ["anomalies"]) as? [String: Any] ?? [:]
        let teams = (anomalies["anomalies"] as? [[String: Any]] ?? []).filter { $0["scope"] as? String == "team" }
        #expect(teams.map { $0["value"] as? String } == ["ml"], "\(anomalies)")
        #expect(Int64(teams.first?["today_nanousd"] as? Int ?? 0) == mlSpend)
        #expect(teams.first?["normal_nanousd"] as? Int == 1_000)
        let alerted = try await eventually(until: { $0 >= 1 }) {
            MetricsText(try await Self.page(cluster))[#"tollgate_anomaly_alerts_total{scope="team"}"#] ?? 0
        }
        #expect(alerted == 1)
        #expect(try cluster.cli(["anomalies", "--token-file", cluster.apiTokenFile]).contains("TOP MODEL"))

        // Suggestions: 130 % of each team's p95 day; --apply creates them observing, and leaves ml-daily alone.
        let suggested = try json(cluster, ["budget", "suggest", "--by", "team", "--window", "day", "--baseline", "60d", "--headroom", "130", "--apply"])
        let proposals = (suggested as? [String: Any])?["suggestions"] as? [[String: Any]] ?? []
        let histA = proposals.first { $0["value"] as? String == "hist-a" }
        #expect(histA?["p95"] as? Int == Int(4 * Self.dollar) && histA?["windows"] as? Int == 60, "\(proposals)")
        #expect(histA?["limit"] as? Int == Int(520 * Self.dollar / 100))
        #expect(proposals.first { $0["value"] as? String == "web" }?["limit"] as? Int == Int(130 * Self.dollar))
        #expect(proposals.first { $0["value"] as? String == "ml" }?["existing_budget_id"] as? String == "ml-daily")
        let budgets = try json(cluster, ["budget", "list"]) as? [[String: Any]] ?? []
        let byID = Dictionary(uniqueKeysWithValues: budgets.compactMap { view -> (String, [String: Any])? in
            guard let budget = view["budget"] as? [String: Any], let id = budget["id"] as? String else { return nil }
            return (id, budget)
        })
        #expect(byID["team-hist-a-day"]?["mode"] as? String == "observe" && byID["team-hist-a-day"]?["limit"] as? Int == Int(520 * Self.dollar / 100))
        #expect(byID["team-web-day"]?["mode"] as? String == "observe")
        #expect(byID["team-ml-day"] == nil)
        #expect(byID["ml-daily"]?["mode"] as? String == "enforce" && byID["ml-daily"]?["limit"] as? Int == Int(1_000 * Self.dollar))
    }
}
