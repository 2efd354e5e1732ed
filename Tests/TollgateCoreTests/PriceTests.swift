import Testing
@testable import TollgateCore

@Suite struct PriceTests {
    @Test(arguments: [
        ("2.50", Int64(2_500_000_000)), ("0.075", 75_000_000), ("10", 10_000_000_000),
        ("0.000000001", 1), (".5", 500_000_000), ("$1.25", 1_250_000_000),
    ])
    func parsesDecimalUSDExactly(text: String, nanodollars: Int64) throws {
        #expect(try parseUSDToNanodollars(text) == nanodollars)
    }

    @Test(arguments: ["", "abc", "1.2.3", "-1", "0.0000000001", "1e3", "١٢"])
    func rejectsWhatIsNotAnAmount(text: String) {
        #expect(throws: PriceError.self) { try parseUSDToNanodollars(text) }
    }

    @Test func chargesEachTokenClassAtItsRate() throws {
        // gpt-4o: $2.50 in, $1.25 cached, $10 out, per million tokens.
        let price = ModelPrice(provider: "openai", input: 2_500_000_000, cachedInput: 1_250_000_000, output: 10_000_000_000)
        let tokens = TokenUsage(input: 1_000, cachedInput: 400, output: 200, reasoning: 50)
        // 600 uncached × 2500 + 400 cached × 1250 + 200 out × 10000 nanodollars.
        #expect(price.cost(of: tokens) == Nanodollars(1_500_000 + 500_000 + 2_000_000))
    }

    @Test func cacheWritesHaveTheirOwnRateAndAreNotChargedTwice() {
        let price = ModelPrice(provider: "anthropic", input: 3_000_000_000, cachedInput: 300_000_000, cacheWrite: 3_750_000_000, output: 15_000_000_000)
        let tokens = TokenUsage(input: 1_500, cachedInput: 500, cacheWrite: 200)
        #expect(price.cost(of: tokens) == Nanodollars(800 * 3_000 + 500 * 300 + 200 * 3_750))
    }

    @Test func roundsHalfUpOnceAtTheEnd() {
        // $0.0015 per million: one token costs 0.0015 nanodollars.
        let price = ModelPrice(provider: "x", input: 1_500, output: 0)
        #expect(price.cost(of: TokenUsage(input: 333)) == Nanodollars(0))  // 0.4995
        #expect(price.cost(of: TokenUsage(input: 334)) == Nanodollars(1))  // 0.501
    }

    @Test func hugeCountsDoNotOverflow() {
        let price = ModelPrice(provider: "x", input: 1_000_000_000_000, output: 1_000_000_000_000)  // $1000 per M
        let cost = price.cost(of: TokenUsage(input: 1_000_000_000, output: 1_000_000_000))
        #expect(cost == Nanodollars(2_000_000_000_000_000))  // $2M
    }

    @Test func nanodollarsFormatForHumansAndMachines() {
        #expect(Nanodollars(1_234_560_000_000).formatted == "$1,234.56")
        #expect(Nanodollars(4_200_000).formatted == "$0.0042")
        #expect(Nanodollars(0).formatted == "$0.00")
        #expect(Nanodollars(1_234).formatted == "<$0.0001")
        #expect(Nanodollars(12_000_350_000).decimalUSD == "12.000350000")
        #expect(Nanodollars(-5).decimalUSD == "-0.000000005")
    }
}

@Suite struct PriceCatalogTests {
    let catalog = try! PriceCatalog(yaml: """
        models:
          gpt-4o:
            provider: openai
            input: 2.50
            cached_input: 1.25
            output: 10
            aliases: [chatgpt-4o-latest]
          claude-sonnet-4-5:
            provider: anthropic
            input: 3
            output: 15
        fallback:
          input: 20
          output: 80
        """, source: "test")

    @Test(arguments: ["gpt-4o", "gpt-4o-2024-08-06", "chatgpt-4o-latest"])
    func findsModelsThroughAliasesAndSnapshots(name: String) throws {
        guard case .priced(let model, let price) = catalog.lookup(name) else {
            Issue.record("\(name) should be priced")
            return
        }
        #expect(model == "gpt-4o")
        #expect(price.cachedInput == 1_250_000_000)
    }

    @Test func stripsAnthropicDateSuffix() {
        #expect(catalog.lookup("claude-sonnet-4-5-20250929") != .unpriced(catalog.fallback))
    }

    @Test func unknownModelsGetTheFallbackNeverZero() {
        guard case .unpriced(let fallback) = catalog.lookup("mystery-model") else {
            Issue.record("mystery-model should be unpriced")
            return
        }
        #expect(fallback.cost(of: TokenUsage(input: 1_000_000)) == Nanodollars(20_000_000_000))
    }

    @Test func errorsNameTheKey() {
        #expect(throws: ConfigError.invalid(key: "models.m.input", value: "cheap", expected: "USD per million tokens, e.g. 2.50")) {
            try PriceCatalog(yaml: "models:\n  m:\n    provider: x\n    input: cheap\n    output: 1\n", source: "t")
        }
        #expect(throws: ConfigError.missing(key: "models.m.output", expected: "USD per million output tokens")) {
            try PriceCatalog(yaml: "models:\n  m:\n    provider: x\n    input: 1\n", source: "t")
        }
    }
}

@Suite struct SnapshotSuffixTests {
    @Test(arguments: [
        ("gpt-4o-2024-08-06", "gpt-4o"), ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"), ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("gemini-3-pro-preview", "gemini-3-pro"), ("gpt-4o", "gpt-4o"), ("o3", "o3"), ("gpt-4.1-mini", "gpt-4.1-mini"),
        ("x-2024-8-06", "x-2024-8-06"), ("", ""),
    ])
    func stripsOnlyRealSnapshotSuffixes(name: String, family: String) {
        #expect(PriceCatalog.withoutSnapshotSuffix(name) == family)
    }
}
