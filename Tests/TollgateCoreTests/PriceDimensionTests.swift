import Testing
@testable import TollgateCore

/// Every price dimension beyond the five classes: 1-hour cache writes, long-context
/// bands, service tiers and per-call fees, each checked against hand-computed costs.
@Suite struct PriceDimensionTests {
    static let dollar: Int64 = 1_000_000_000

    /// Claude Sonnet 4.5 with the 1M context, as Anthropic lists it (USD per million tokens):
    /// $3 in, $0.30 read, $3.75 5-minute write, $6 1-hour write, $15 out; over 200k prompt
    /// tokens $6, $0.60, $7.50, $12, $22.50.
    static let sonnet = ModelPrice(
        provider: "anthropic",
        standard: TokenRates(input: 3 * dollar, cachedInput: 300_000_000, cacheWrite: 3_750_000_000, cacheWrite1h: 6 * dollar, output: 15 * dollar),
        longContext: .init(aboveTokens: 200_000, standard: DeclaredRates([.input: 6 * dollar, .cachedInput: 600_000_000,
                                                                          .cacheWrite: 7_500_000_000, .output: 22_500_000_000])))

    /// gpt-5 with OpenAI's flex and priority prices; flex states no cached rate.
    static let gpt5 = ModelPrice(
        provider: "openai",
        standard: TokenRates(input: 1_250_000_000, cachedInput: 125_000_000, output: 10 * dollar),
        serviceTiers: [.flex: DeclaredRates([.input: 625_000_000, .output: 5 * dollar]),
                       .priority: DeclaredRates([.input: 2_500_000_000, .cachedInput: 250_000_000, .output: 20 * dollar])])

    /// Σ tokens × rate (nanodollars per million), rounded half-up: the rule by hand.
    static func expected(_ terms: [(Int64, Int64)]) -> Nanodollars {
        Nanodollars((terms.reduce(Int64(0)) { $0 + $1.0 * $1.1 } + 500_000) / 1_000_000)
    }

    @Test func oneHourCacheWritesCostMoreThanFiveMinuteOnes() {
        // 10k prompt tokens: 2k read, 3k written (1k of them for an hour), 5k plain.
        let tokens = TokenUsage(input: 10_000, cachedInput: 2_000, cacheWrite: 3_000, cacheWrite1h: 1_000, output: 500)
        #expect(Self.sonnet.cost(of: tokens) == Self.expected([
            (5_000, 3 * Self.dollar), (2_000, 300_000_000), (2_000, 3_750_000_000), (1_000, 6 * Self.dollar), (500, 15 * Self.dollar),
        ]))
        // The same writes all at 5 minutes cost less by exactly 1k × ($6 − $3.75).
        var fiveMinute = tokens
        fiveMinute.cacheWrite1h = 0
        #expect(Self.sonnet.cost(of: tokens).value - Self.sonnet.cost(of: fiveMinute).value == 1_000 * 2_250)
    }

    @Test func aOneHourCountAboveTheTotalIsCappedAtTheTotal() {
        let tokens = TokenUsage(input: 1_000, cacheWrite: 100, cacheWrite1h: 400)
        #expect(Self.sonnet.cost(of: tokens) == Self.expected([(900, 3 * Self.dollar), (100, 6 * Self.dollar)]))
    }

    @Test func aPromptOfExactlyTheThresholdIsNotLongContext() {
        let atThreshold = TokenUsage(input: 200_000, cachedInput: 50_000, output: 1_000)
        #expect(Self.sonnet.cost(of: atThreshold) == Self.expected([(150_000, 3 * Self.dollar), (50_000, 300_000_000), (1_000, 15 * Self.dollar)]))
    }

    @Test func onePromptTokenMorePricesTheWholeRequestAtTheLongContextRates() {
        let above = TokenUsage(input: 200_001, cachedInput: 50_000, cacheWrite: 10_000, cacheWrite1h: 4_000, output: 1_000)
        // The 1-hour write is not stated above 200k: it keeps the 2x-of-input proportion ($12).
        #expect(Self.sonnet.cost(of: above) == Self.expected([
            (140_001, 6 * Self.dollar), (50_000, 600_000_000), (6_000, 7_500_000_000), (4_000, 12 * Self.dollar), (1_000, 22_500_000_000),
        ]))
        #expect(Self.sonnet.derived.contains(.standard, longContext: true, .cacheWrite1h))
        #expect(!Self.sonnet.derived.contains(.standard, longContext: true, .output))
    }

    @Test func theResponsesTierPicksTheRow() {
        let tokens = TokenUsage(input: 4_000, cachedInput: 1_000, output: 2_000)
        func cost(_ tier: ServiceTier) -> Nanodollars { Self.gpt5.cost(of: BillableUsage(tokens: tokens, serviceTier: tier)) }
        #expect(cost(.standard) == Self.expected([(3_000, 1_250_000_000), (1_000, 125_000_000), (2_000, 10 * Self.dollar)]))
        // Flex states input and output at half; its cached rate follows input's ratio.
        #expect(cost(.flex) == Self.expected([(3_000, 625_000_000), (1_000, 62_500_000), (2_000, 5 * Self.dollar)]))
        #expect(Self.gpt5.derived.contains(.flex, longContext: false, .cachedInput))
        #expect(cost(.priority) == Self.expected([(3_000, 2_500_000_000), (1_000, 250_000_000), (2_000, 20 * Self.dollar)]))
        // Batch is not stated: the providers' rule, half of every standard rate.
        #expect(cost(.batch) == Self.expected([(3_000, 625_000_000), (1_000, 62_500_000), (2_000, 5 * Self.dollar)]))
        #expect(Self.gpt5.states(.flex) && Self.gpt5.states(.priority) && !Self.gpt5.states(.batch))
    }

    @Test func batchAboveTheThresholdIsHalfTheLongContextRates() {
        let tokens = TokenUsage(input: 300_000, output: 1_000)
        let cost = Self.sonnet.cost(of: BillableUsage(tokens: tokens, serviceTier: .batch))
        #expect(cost == Self.expected([(300_000, 3 * Self.dollar), (1_000, 11_250_000_000)]))
    }

    @Test func aStatedLongContextTierWinsOverTheDerivedOne() {
        let price = ModelPrice(
            provider: "gemini", standard: TokenRates(input: 1_250_000_000, output: 10 * Self.dollar),
            longContext: .init(aboveTokens: 200_000, standard: DeclaredRates([.input: 2_500_000_000, .output: 15 * Self.dollar]),
                               serviceTiers: [.batch: DeclaredRates([.input: 1 * Self.dollar])]))
        let row = price.rates[.batch, longContext: true]
        #expect(row.input == 1 * Self.dollar)
        // Output is not stated for long-context batch: it follows the stated input's ratio (1 / 2.5).
        #expect(row.output == 6 * Self.dollar)
    }

    @Test func webSearchesArePricedPerCall() {
        let price = ModelPrice(provider: "anthropic", standard: TokenRates(input: 3 * Self.dollar, output: 15 * Self.dollar),
                               webSearchPer1k: 10 * Self.dollar)
        let usage = BillableUsage(tokens: TokenUsage(input: 1_000, output: 100), webSearchRequests: 3)
        // $10 per 1,000 searches is one cent a search.
        #expect(price.cost(of: usage) == Nanodollars(Self.expected([(1_000, 3 * Self.dollar), (100, 15 * Self.dollar)]).value + 30_000_000))
    }

    @Test func aModelWithoutABandPricesLongPromptsAtItsOnlyRates() {
        let tokens = TokenUsage(input: 5_000_000, output: 10)
        #expect(!Self.gpt5.hasLongContext)
        #expect(Self.gpt5.cost(of: tokens) == Self.expected([(5_000_000, 1_250_000_000), (10, 10 * Self.dollar)]))
    }

    @Test(arguments: [("default", ServiceTier.standard), ("auto", .standard), ("scale", .standard), ("flex", .flex),
                      ("priority", .priority), ("batch", .batch), ("standard", .standard), ("PRIORITY", .priority)])
    func readsTheProvidersTierNames(name: String, tier: ServiceTier) {
        #expect(ServiceTier(providerValue: name) == tier)
    }

    @Test func anUnknownTierNameIsNotGuessed() {
        #expect(ServiceTier(providerValue: "ultrafast") == nil)
    }
}
