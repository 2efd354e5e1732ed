import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// Spend anomalies through the real store: cells written at chosen minutes of chosen days,
/// evaluated at a chosen instant on a manual clock.
@Suite struct AnomalyMonitorTests {
    /// 2024-10-04 (UTC), far from the epoch so the 7 previous days exist.
    static let day: Int64 = 20_000
    static let dollar = Nanodollars.perDollar

    static func cell(day: Int64, minute: Int64, team: String, model: String = "gpt-4o", dollars cents: Int64) -> Cell {
        var dimensions = Dimensions()
        dimensions.provider = "openai"
        dimensions.team = team
        dimensions.model = model
        dimensions.keyID = "key-\(team)"
        dimensions.keyHint = "sk-…\(team)"
        dimensions.environment = "prod"
        var counters = UsageCounters()
        counters.requests = 1
        counters.cost = Nanodollars(cents * dollar / 100)
        return Cell(key: CellKey(minute: day * 1_440 + minute, dimensions: dimensions), counters: counters)
    }

    /// ml: $1 every morning (08:00) and $1 every evening (20:00) for 7 days, $4 this morning;
    /// web: $2 every morning, $5 this morning; fresh: nothing before, $6 this morning;
    /// tiny: nothing before, $0.50 this morning.
    static func history(_ store: UsageStore) throws {
        var cells: [Cell] = []
        for back in 1...7 {
            cells.append(cell(day: day - Int64(back), minute: 480, team: "ml", dollars: 100))
            cells.append(cell(day: day - Int64(back), minute: 1_200, team: "ml", dollars: 100))
            cells.append(cell(day: day - Int64(back), minute: 540, team: "web", dollars: 200))
        }
        cells.append(cell(day: day, minute: 500, team: "ml", model: "gpt-4o", dollars: 300))
        cells.append(cell(day: day, minute: 510, team: "ml", model: "gpt-4o-mini", dollars: 100))
        cells.append(cell(day: day, minute: 520, team: "web", dollars: 500))
        cells.append(cell(day: day, minute: 530, team: "fresh", dollars: 600))
        cells.append(cell(day: day, minute: 540, team: "tiny", dollars: 50))
        #expect(try store.apply(UsageBatchMessage(agentID: "agent-1", seq: 1, floorSeq: 0, cells: cells)) == .applied)
    }

    static func settings(ratio: Double = 3, minSpend: Int64 = dollar) -> AnomalySettings {
        var settings = AnomalySettings()
        settings.ratio = ratio
        settings.minSpend = Nanodollars(minSpend)
        return settings
    }

    @Test func todayIsComparedWithTheSevenPreviousDaysUpToTheSameTimeOfDay() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            try Self.history(store)
            // 10:00: ml's evenings do not count, so its normal is $1 and today's $4 is 4×.
            let clock = ManualClock(unixSeconds: Self.day * 86_400 + 36_000)
            let monitor = AnomalyMonitor(settings: Self.settings(), store: store, metrics: AggregatorMetrics(),
                                         logger: Logger(label: "test"), clock: clock.serviceClock)
            let report = try monitor.report()
            let teams = report.anomalies.filter { $0.scope == .team }
            #expect(teams.map(\.value) == ["fresh", "ml"], "\(teams)")
            let ml = try #require(teams.first { $0.value == "ml" })
            #expect(ml.today.value == 4 * Self.dollar && ml.normal.value == Self.dollar && ml.ratio == 4)
            #expect(ml.topModel == "gpt-4o" && ml.topModelSpend.value == 3 * Self.dollar)
            #expect(ml.topKey == "key-ml" && ml.topKeyHint == "sk-…ml")
            let fresh = try #require(teams.first { $0.value == "fresh" })
            #expect(fresh.ratio == nil && fresh.today.value == 6 * Self.dollar)
            // web is 2.5×, tiny is under the floor.
            #expect(!report.anomalies.contains { $0.value == "web" || $0.value == "tiny" || $0.value == "key-web" })
            // The same per key; env prod: $15.50 today against $3 each morning.
            #expect(Set(report.anomalies.filter { $0.scope == .key }.map(\.value)) == ["key-ml", "key-fresh"])
            let env = try #require(report.anomalies.first { $0.scope == .environment })
            #expect(env.value == "prod" && env.today.value == 1_550 * Self.dollar / 100 && env.normal.value == 3 * Self.dollar)
            #expect(report.day == Self.day * 86_400)

            // At 21:00 ml's evenings count: its normal is $2 and $4 is no longer 3×.
            clock.advance(toUnixSeconds: Self.day * 86_400 + 75_600)
            #expect(try !monitor.report().anomalies.contains { $0.value == "ml" })
        }
    }

    @Test func eachScopeValueAlertsOncePerDayAcrossRestartsWithItsWebhook() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            try Self.history(store)
            let recorder = WebhookRecorder()
            let url = try recorder.start()
            defer { recorder.stop() }
            let metrics = AggregatorMetrics()
            let webhook = WebhookNotifier(settings: .init(url: url), metrics: metrics, logger: Logger(label: "test"))
            let clock = ManualClock(unixSeconds: Self.day * 86_400 + 36_000)
            let monitor = AnomalyMonitor(settings: Self.settings(), store: store, metrics: metrics, logger: Logger(label: "test"),
                                         webhook: webhook, clock: clock.serviceClock)
            #expect(monitor.evaluate()?.count == 5)
            clock.advance(by: .seconds(60))
            #expect(monitor.evaluate()?.count == 5)
            // A restarted aggregator (a new monitor, same store) does not alert again today.
            let restarted = AnomalyMonitor(settings: Self.settings(), store: store, metrics: metrics, logger: Logger(label: "test"),
                                           webhook: webhook, clock: clock.serviceClock)
            restarted.evaluate()
            #expect(webhook.waitUntilIdle(timeout: .seconds(20)))
            let page = MetricsText(metrics.exposition())
            #expect(page[#"tollgate_anomaly_alerts_total{scope="team"}"#] == 2)
            #expect(page[#"tollgate_anomaly_alerts_total{scope="key"}"#] == 2)
            #expect(page[#"tollgate_anomaly_alerts_total{scope="env"}"#] == 1)
            #expect(page[#"tollgate_anomaly_alerts_total{scope="use_case"}"#] == 0)
            #expect(page[#"tollgate_anomalies_active{scope="team"}"#] == 2)
            #expect(recorder.bodies.count == 5)
            let bodies = recorder.bodies.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            let ml = try #require(bodies.first { ($0["anomaly"] as? [String: Any])?["value"] as? String == "ml" })
            #expect(ml["kind"] as? String == "anomaly")
            #expect((ml["text"] as? String)?.contains("team ml has spent $4.00 today") == true, "\(ml)")
            #expect((ml["anomaly"] as? [String: Any])?["ratio"] as? Double == 4)

            // The next day is a new day: ml spends $40 by 10:00 against a normal that now includes yesterday's $4.
            #expect(try store.apply(UsageBatchMessage(agentID: "agent-1", seq: 2, floorSeq: 0,
                                                      cells: [Self.cell(day: Self.day + 1, minute: 500, team: "ml", dollars: 4_000)])) == .applied)
            clock.advance(toUnixSeconds: (Self.day + 1) * 86_400 + 36_000)
            let next = try #require(monitor.evaluate())
            #expect(next.first { $0.scope == .team }?.value == "ml")
            #expect(MetricsText(metrics.exposition())[#"tollgate_anomaly_alerts_total{scope="team"}"#] == 3)
            #expect(MetricsText(metrics.exposition())[#"tollgate_anomalies_active{scope="team"}"#] == 1)
        }
    }

    @Test func settingsAreValidatedWithTheKeyNamed() throws {
        let config = try AggregatorConfig(yaml: "insecure_plaintext: true\nanomalies:\n  ratio: 2.5\n  min_spend_usd: 0.50\n  interval_ms: 30000\n  enabled: false\n")
        #expect(config.anomalies.ratio == 2.5 && config.anomalies.minSpend.value == Self.dollar / 2)
        #expect(config.anomalies.interval == .seconds(30) && !config.anomalies.enabled)
        let defaults = try AggregatorConfig(yaml: "insecure_plaintext: true")
        #expect(defaults.anomalies.ratio == 3 && defaults.anomalies.minSpend.value == 5 * Self.dollar && defaults.anomalies.enabled)
        for (yaml, expected) in [("ratio: 1", "anomalies.ratio"), ("ratio: lots", "anomalies.ratio"), ("min_spend_usd: -1", "anomalies.min_spend_usd"),
                                 ("interval_ms: 5", "anomalies.interval_ms"), ("threshold: 3", "anomalies.threshold")] {
            #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nanomalies:\n  \(yaml)\n") } throws: { "\($0)".contains(expected) }
        }
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nmetrics:\n  max_spend_series: 1\n") } throws: {
            "\($0)".contains("metrics.max_spend_series")
        }
    }
}

/// `GET /v1/anomalies` and `GET /v1/budget-suggestions` through the router: token first,
/// then answers from the store.
@Suite struct InsightRoutesTests {
    @Test func bothNeedTheTokenAndAnswerFromTheStore() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            try AnomalyMonitorTests.history(store)
            let clock = ManualClock(unixSeconds: AnomalyMonitorTests.day * 86_400 + 36_000)
            let metrics = AggregatorMetrics()
            var router = APIRouter(store: store, metrics: metrics, token: APIToken("secret"), clock: clock.serviceClock)
            router.anomalies = AnomalyMonitor(settings: AnomalyMonitorTests.settings(), store: store, metrics: metrics,
                                              logger: Logger(label: "test"), clock: clock.serviceClock)
            for uri in ["/v1/anomalies", "/v1/budget-suggestions?by=team"] {
                #expect(router.respond(method: .GET, uri: uri).status == .unauthorized, "\(uri)")
                #expect(router.respond(method: .GET, uri: uri, authorization: "Bearer secret").status == .ok, "\(uri)")
            }
            let body = router.respond(method: .GET, uri: "/v1/anomalies", authorization: "Bearer secret").body
            let report = try JSONDecoder().decode(AnomalyReport.self, from: Data(body.utf8))
            #expect(report.anomalies.filter { $0.scope == .team }.map(\.value) == ["fresh", "ml"])
            let suggestions = try JSONDecoder().decode(BudgetSuggestionReport.self, from: Data(router.respond(
                method: .GET, uri: "/v1/budget-suggestions?by=team&baseline=7d", authorization: "Bearer secret").body.utf8))
            // ml's 7 previous days were $2 each (morning and evening): 130 % is $2.60.
            #expect(suggestions.suggestions.first { $0.value == "ml" }?.limit == 260 * AnomalyMonitorTests.dollar / 100)
            let refused = router.respond(method: .GET, uri: "/v1/budget-suggestions?window=fortnight", authorization: "Bearer secret")
            #expect(refused.status == .badRequest && refused.body.contains("hour, day, week or month"))
            #expect(MetricsText(metrics.exposition())[#"tollgate_api_rejected_total{reason="bad_suggestion"}"#] == 1)
        }
    }
}
