import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders

/// The cost of the same Anthropic traffic (prompt caching with 5-minute and 1-hour
/// writes, as the mock serves it) priced three ways: with the built-in catalog, with the
/// built-in catalog as it was before 1-hour writes were a class of their own (every write
/// at the 5-minute rate), and with LiteLLM's prices. The aggregator's total must be the
/// first, to the nanodollar; the figures are printed for the record (README, issue #16).
@Suite(.serialized) struct LiteLLMPriceComparisonTests {
    /// LiteLLM's `model_prices_and_context_window.json` entries for the models the mock
    /// serves on Anthropic's API, as published (the fields that price this traffic).
    static let liteLLM = """
        {
          "claude-sonnet-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
            "cache_creation_input_token_cost_above_1hr": 6e-06,
            "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
            "cache_read_input_token_cost_above_200k_tokens": 6e-07, "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06},
          "claude-haiku-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06,
            "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06,
            "cache_creation_input_token_cost_above_1hr": 2e-06}
        }
        """

    @Test func oneHourWritesCloseTheGapToLiteLLM() async throws {
        let cluster = try LocalCluster()
        defer { cluster.shutdown() }
        try await cluster.start()

        let plan = TrafficPlan(apiKeys: TrafficPlan.demoKeys(count: 2), models: ["gpt-4o"], requests: 120, concurrency: 4,
                               formats: [.anthropicMessages, .anthropicMessagesStream])
        let report = try await runTraffic(plan: plan, agentURL: cluster.agentURL)
        #expect(report.failures == 0, "\(report.failureSamples)")
        let ledger = try await fetchLedger(mockURL: cluster.mockURL)
        let entries = ledger.entries.filter { $0.provider == "anthropic" }
        #expect(entries.contains { $0.cacheWrite1hTokens > 0 }, "the traffic should write 1-hour caches")

        let ours = DefaultPriceCatalog.load()
        var theirs = PriceCatalog(fallback: PriceCatalog.defaultFallback)
        try theirs.merge(liteLLMJSON: Data(Self.liteLLM.utf8), source: "litellm")
        func total(_ catalog: PriceCatalog, oneHourAsFiveMinute: Bool = false) -> Int64 {
            entries.reduce(0) { sum, entry in
                let tokens = TokenUsage(input: Int64(entry.promptTokens), cachedInput: Int64(entry.cachedTokens),
                                        cacheWrite: Int64(entry.cacheWriteTokens),
                                        cacheWrite1h: oneHourAsFiveMinute ? 0 : Int64(entry.cacheWrite1hTokens),
                                        output: Int64(entry.completionTokens))
                guard case .priced(_, let price) = catalog.lookup(entry.model) else {
                    Issue.record("\(entry.model) has no price")
                    return sum
                }
                return sum + price.cost(of: BillableUsage(tokens: tokens), longContext: false).value
            }
        }
        let now = total(ours), before = total(ours, oneHourAsFiveMinute: true), liteLLM = total(theirs)
        func percent(_ value: Int64) -> String {
            let basisPoints = (value - liteLLM) * 10_000 / liteLLM
            return "\(basisPoints < 0 ? "-" : "+")\(abs(basisPoints) / 100).\(String(format: "%02d", abs(basisPoints) % 100)) %"
        }
        print("""
            Anthropic traffic, \(entries.reduce(0) { $0 + $1.requests }) requests, \
            \(entries.reduce(0) { $0 + $1.cacheWrite1hTokens }) of \(entries.reduce(0) { $0 + $1.cacheWriteTokens }) cache-write tokens for 1 hour:
              LiteLLM prices                    \(Nanodollars(liteLLM).decimalUSD) USD
              before (1-hour at 5-minute rate)  \(Nanodollars(before).decimalUSD) USD  \(percent(before))
              now                               \(Nanodollars(now).decimalUSD) USD  \(percent(now))
            """)
        #expect(now == liteLLM)
        #expect(before < liteLLM)

        // And the aggregator charged exactly `now`.
        let charged = try await eventually(until: { $0 == now }) {
            let json = try cluster.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            return try GroundTruth.actual(fromUsageJSON: Data(json.utf8)).values.reduce(0) { $0 + $1.costNanousd }
        }
        #expect(charged == now)
    }
}
