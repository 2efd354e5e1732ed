import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The aggregator's spend and token counters and budget gauges on `/metrics`.
@Suite struct SpendSeriesTests {
    static func cell(minute: Int64, provider: String, model: String, team: String, cost: Int64, input: Int64 = 100, output: Int64 = 10) -> Cell {
        var dimensions = Dimensions()
        dimensions.provider = provider
        dimensions.model = model
        dimensions.team = team
        dimensions.keyID = "key-\(minute % 3)"
        var counters = UsageCounters()
        counters.requests = 1
        counters.tokens = TokenUsage(input: input, cachedInput: input / 4, cacheWrite: input / 10, cacheWrite1h: input / 20,
                                     output: output, reasoning: output / 2)
        counters.cost = Nanodollars(cost)
        return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
    }

    static func tally(_ cells: [Cell]) throws -> SpendSeriesTally {
        try #require(SpendSeriesTally.of(encoded: try RawUsageBatch(UsageBatchMessage(agentID: "x", seq: 1, floorSeq: 0, cells: cells)).encoded))
    }

    /// Batches through the ingest server's own path: applied ones count once, a resend not at all,
    /// and the counters equal the store's totals by provider, model and team to the nanodollar.
    @Test func appliedBatchesOnlyAndExactlyTheStoresTotals() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let metrics = AggregatorMetrics()
            let server = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext, store: store, metrics: metrics,
                                          logger: Logger(label: "test"))
            var random = SplitMix64(seed: 7)
            let teams = ["ml", "web", "data", ""]
            let models = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5")]
            for seq in UInt64(1)...20 {
                let cells = (0..<50).map { index -> Cell in
                    let (provider, model) = models[Int(random.next() % 3)]
                    return Self.cell(minute: 1_000 + Int64(seq), provider: provider, model: model, team: teams[Int(random.next() % 4)],
                                     cost: Int64(random.next() % 5_000_000) + 1, input: Int64(index) * 37)
                }
                let frames = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "agent-1", seq: seq, floorSeq: 0, cells: cells))
                #expect(server.handle(frames) == .ack(seq: seq))
                if seq == 10 { #expect(server.handle(frames) == .ack(seq: seq)) }  // a resend: acknowledged, not counted
            }
            let groups = try store.query(fromMinute: 0, toMinute: 10_000, groupBy: [.provider, .model, .team])
            let page = MetricsText(metrics.exposition())
            #expect(groups.count > 8)
            for group in groups {
                let labels = #"provider="\#(group.dimensions.provider)",model="\#(group.dimensions.model)",team="\#(group.dimensions.team)""#
                #expect(page.description.contains("tollgate_spend_usd_total{\(labels)} \(group.counters.cost.decimalUSD)\n"), "\(labels)")
                let tokens = group.counters.tokens
                for (name, value) in [("input", tokens.input), ("cached_input", tokens.cachedInput), ("cache_write", tokens.cacheWrite),
                                      ("cache_write_1h", tokens.cacheWrite1h), ("output", tokens.output), ("reasoning", tokens.reasoning)] {
                    #expect(page["tollgate_tokens_total{\(labels),class=\"\(name)\"}"] == Double(value), "\(labels) \(name)")
                }
            }
            #expect(metrics.spend.snapshot().count == groups.count)
        }
    }

    @Test func teamsBeyondTheBoundFoldIntoOtherAndNothingIsLost() throws {
        let series = SpendSeries(maxSeries: 2)
        for (team, cost) in [("a", Int64(1)), ("b", 2), ("c", 4), ("d", 8)] {
            series.add(try Self.tally([Self.cell(minute: 1, provider: "openai", model: "gpt-4o", team: team, cost: cost)]))
        }
        let sums = series.snapshot()
        #expect(Set(sums.keys.map(\.team)) == ["a", "b", "other"])
        #expect(sums.values.reduce(0) { $0 + $1.cost } == 15)
        #expect(sums.first { $0.key.team == "other" }?.value.cost == 12)
        let page = MetricsText(series.exposition())
        #expect(page["tollgate_spend_series_folded_total"] == 2)
        #expect(page[#"tollgate_spend_usd_total{provider="openai",model="gpt-4o",team="other"}"#] == 12e-9)
    }

    @Test func budgetGaugesAreInTheBudgetsUnit() throws {
        let budget = Budget(id: "ml-daily", selector: try BudgetSelector(parsing: "team=ml"), unit: .usd, limit: 100 * Nanodollars.perDollar, period: .day)
        var tokens = Budget(id: "ci-tokens", selector: try BudgetSelector(parsing: "env=ci"), unit: .tokens, limit: 1_000_000, period: .day)
        tokens.action = .alert
        let day = BudgetWindow(start: 0, end: 86_400)
        let statuses = [
            BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 30 * Nanodollars.perDollar + 5, window: day, now: 21_600),
            BudgetStatus.evaluate(budget: tokens, exemptions: [], spent: 100_000, window: day, now: 21_600),
        ]
        let page = MetricsText(BudgetGauges.exposition(statuses))
        #expect(page.description.contains(#"tollgate_budget_spent{budget="ml-daily",unit="usd"} 30.000000005"#))
        #expect(page[#"tollgate_budget_limit{budget="ml-daily",unit="usd"}"#] == 100)
        #expect(page[#"tollgate_budget_remaining{budget="ml-daily",unit="usd"}"#] == 69.999999995)
        #expect(page[#"tollgate_budget_forecast{budget="ml-daily",unit="usd"}"#] == 120.00000002)
        // $30 in 6 h: $100 at 20:00, 14 h (50,400 s) after 06:00.
        #expect(page[#"tollgate_budget_exhaustion_seconds{budget="ml-daily"}"#] == 50_400)
        #expect(page[#"tollgate_budget_spent{budget="ci-tokens",unit="tokens"}"#] == 100_000)
        #expect(page[#"tollgate_budget_forecast{budget="ci-tokens",unit="tokens"}"#] == 400_000)
        #expect(page[#"tollgate_budget_exhaustion_seconds{budget="ci-tokens"}"#] == nil)
        #expect(page.conventionProblems == [])
    }

    @Test(.enabled(if: Promtool.path != nil, "\(Promtool.missing)"))
    func promtoolAcceptsTheWholePage() throws {
        let metrics = AggregatorMetrics()
        metrics.spend.add(try Self.tally([Self.cell(minute: 1, provider: "openai", model: "gpt-4o", team: #"we"ird\team"#, cost: 5)]))
        let budget = Budget(id: "ml-daily", selector: try BudgetSelector(parsing: "team=ml"), unit: .usd, limit: 100, period: .day)
        let page = metrics.exposition() + BudgetGauges.exposition([
            BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 50, window: BudgetWindow(start: 0, end: 86_400), now: 3_600),
        ])
        let problems = try Promtool.problems(in: page)
        #expect(problems == nil, "\(problems ?? "")")
        #expect(MetricsText(page).conventionProblems == [])
    }
}
