import Testing
@testable import TollgateCore

/// The catalog YAML's keys for 1-hour writes, long-context bands, service tiers, web
/// search and provenance, and the errors an operator gets for each mistake.
@Suite struct PriceCatalogYAMLDimensionTests {
    static let yaml = """
        models:
          claude-sonnet-4-5:
            provider: anthropic
            input: 3
            cached_input: 0.30
            cache_write: 3.75
            cache_write_1h: 6
            output: 15
            long_context:
              above_tokens: 200_000
              input: 6
              output: 22.50
            service_tiers:
              priority: {input: 3.75, output: 18.75}
            web_search_per_1k: 10
            as_of: 2026-11-01
            source: https://www.anthropic.com/pricing#api
          gpt-5:
            provider: openai
            input: 1.25
            output: 10
            service_tiers:
              flex: {input: 0.625, output: 5}
        """

    @Test func readsEveryDimension() throws {
        let catalog = try PriceCatalog(yaml: Self.yaml, source: "catalog.yaml")
        let sonnet = try #require(catalog.prices["claude-sonnet-4-5"])
        #expect(sonnet.cacheWrite1h == 6_000_000_000)
        #expect(sonnet.longContextThreshold == 200_000)
        // Classes the band leaves out scale with its input (2x): 0.60 read, 7.50 and 12 writes.
        #expect(sonnet.rates[.standard, longContext: true] == TokenRates(
            input: 6_000_000_000, cachedInput: 600_000_000, cacheWrite: 7_500_000_000, cacheWrite1h: 12_000_000_000, output: 22_500_000_000))
        #expect(sonnet.rates[.priority, longContext: false].output == 18_750_000_000)
        #expect(sonnet.webSearchPer1k == 10_000_000_000)
        #expect(catalog.origins["claude-sonnet-4-5"] == PriceOrigin(source: "https://www.anthropic.com/pricing#api", asOf: "2026-11-01"))
        // An entry without `source` is attributed to the file it came from.
        #expect(catalog.origins["gpt-5"] == PriceOrigin(source: "catalog.yaml", asOf: nil))
        #expect(catalog.prices["gpt-5"]?.rates[.flex, longContext: false].output == 5_000_000_000)
    }

    static func entry(_ body: String) -> String {
        "models:\n  m:\n    provider: x\n    input: 1\n    output: 2\n" + body
    }

    @Test(arguments: [
        (entry("    long_context:\n      input: 2\n"),
         ConfigError.missing(key: "models.m.long_context.above_tokens", expected: "the prompt size in tokens above which these rates apply, e.g. 200000")),
        (entry("    long_context:\n      above_tokens: lots\n      input: 2\n"),
         ConfigError.invalid(key: "models.m.long_context.above_tokens", value: "lots", expected: "a whole number of tokens, e.g. 200000")),
        (entry("    long_context:\n      above_tokens: 200000\n"),
         ConfigError.missing(key: "models.m.long_context.input", expected: "at least one long-context rate (input, output, …) in USD per million tokens")),
        (entry("    long_context:\n      above_tokens: 200000\n      input: twice\n"),
         ConfigError.invalid(key: "models.m.long_context.input", value: "twice", expected: "USD per million tokens, e.g. 2.50")),
        (entry("    service_tiers:\n      turbo: {input: 2}\n"),
         ConfigError.unknownKey(key: "models.m.service_tiers.turbo", allowed: ["flex", "priority", "batch"])),
        (entry("    service_tiers:\n      flex: {}\n"),
         ConfigError.missing(key: "models.m.service_tiers.flex.input", expected: "at least one flex rate (input, output, …) in USD per million tokens")),
        (entry("    cache_write_1h: -1\n"),
         ConfigError.invalid(key: "models.m.cache_write_1h", value: "-1", expected: "USD per million tokens, e.g. 2.50")),
        (entry("    web_search_per_1k: ten\n"),
         ConfigError.invalid(key: "models.m.web_search_per_1k", value: "ten", expected: "USD per 1,000 web searches, e.g. 10.00")),
        (entry("    as_of: November\n"),
         ConfigError.invalid(key: "models.m.as_of", value: "November", expected: "a date such as 2026-11-01")),
    ])
    func mistakesNameTheKeyAndTheFix(yaml: String, error: ConfigError) {
        #expect(throws: error) { try PriceCatalog(yaml: yaml, source: "t") }
    }
}
