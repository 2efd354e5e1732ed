import TollgateCore

/// The price catalog shipped inside the agent, so a fresh install prices real traffic
/// without any file. Operators override or extend it with `pricing.catalog` in the
/// agent's config (`tollgate-agent prices` prints this text as a starting point).
public enum DefaultPriceCatalog {
    public static func load() -> PriceCatalog {
        // The text is part of the binary and covered by tests, so it cannot fail at run time.
        try! PriceCatalog(yaml: yaml, source: "built-in price catalog")
    }

    public static let yaml = """
    # Tollgate built-in price catalog. USD per million tokens, per token class.
    # cached_input: cache reads; cache_write: prompt-cache writes. Absent classes cost `input`.
    models:
      gpt-4o:
        provider: openai
        input: 2.50
        cached_input: 1.25
        output: 10.00
        aliases: [chatgpt-4o-latest]
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-4o-mini:
        provider: openai
        input: 0.15
        cached_input: 0.075
        output: 0.60
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-4.1:
        provider: openai
        input: 2.00
        cached_input: 0.50
        output: 8.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-4.1-mini:
        provider: openai
        input: 0.40
        cached_input: 0.10
        output: 1.60
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-4.1-nano:
        provider: openai
        input: 0.10
        cached_input: 0.025
        output: 0.40
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-5:
        provider: openai
        input: 1.25
        cached_input: 0.125
        output: 10.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-5-mini:
        provider: openai
        input: 0.25
        cached_input: 0.025
        output: 2.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-5-nano:
        provider: openai
        input: 0.05
        cached_input: 0.005
        output: 0.40
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      o3:
        provider: openai
        input: 2.00
        cached_input: 0.50
        output: 8.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      o4-mini:
        provider: openai
        input: 1.10
        cached_input: 0.275
        output: 4.40
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      text-embedding-3-small:
        provider: openai
        input: 0.02
        output: 0
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      text-embedding-3-large:
        provider: openai
        input: 0.13
        output: 0
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
    """
}
