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
    # cached_input: cache reads; cache_write: 5-minute prompt-cache writes; cache_write_1h:
    # 1-hour writes. Absent classes cost `input` (1-hour writes: `cache_write`).
    # long_context: the whole request at these rates when its prompt is over above_tokens.
    # service_tiers: flex/priority as the provider lists them; batch, unless listed, is half
    # of every rate at all three providers. A service tier not listed costs the standard rates.
    # web_search_per_1k: USD per 1,000 server-side web searches.
    # Each entry is one model: its id is the canonical name budgets and reports use, and
    # `aliases` are other names of the same model (a dated snapshot such as
    # gpt-4.1-2025-04-14 is found from its undated name without listing it). Distinct
    # models that cost the same are separate entries, never aliases.
    # tier: the model's place in its provider's line-up, for policies such as "no premium
    # models in dev" (tier:premium). The rule is the standard output price per million
    # tokens; Anthropic prices its whole line-up 2-3x above the others, so it has its own bands:
    #   openai, gemini  premium >= $8   standard >= $4   economy below
    #   anthropic       premium >= $25  standard >= $10  economy below
    # (Opus, gpt-5/gpt-4.1/gpt-4o/o3 and Gemini Pro premium; Sonnet and o4-mini standard;
    # Haiku, the minis and nanos, Gemini Flash and the embeddings economy.) A deployment
    # reassigns tiers without restating prices: pricing.tiers: {claude-sonnet-4-5: premium}.
    models:
      gpt-4o:
        provider: openai
        tier: premium
        input: 2.50
        cached_input: 1.25
        output: 10.00
        service_tiers:
          priority: {input: 4.25, cached_input: 2.125, output: 17.00}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      chatgpt-4o-latest:
        provider: openai
        tier: premium
        input: 2.50
        cached_input: 1.25
        output: 10.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-4o-mini:
        provider: openai
        tier: economy
        input: 0.15
        cached_input: 0.075
        output: 0.60
        service_tiers:
          priority: {input: 0.25, cached_input: 0.125, output: 1.00}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      gpt-4.1:
        provider: openai
        tier: premium
        input: 2.00
        cached_input: 0.50
        output: 8.00
        service_tiers:
          priority: {input: 3.50, cached_input: 0.875, output: 14.00}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      gpt-4.1-mini:
        provider: openai
        tier: economy
        input: 0.40
        cached_input: 0.10
        output: 1.60
        service_tiers:
          priority: {input: 0.70, cached_input: 0.175, output: 2.80}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      gpt-4.1-nano:
        provider: openai
        tier: economy
        input: 0.10
        cached_input: 0.025
        output: 0.40
        service_tiers:
          priority: {input: 0.20, cached_input: 0.05, output: 0.80}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      gpt-5:
        provider: openai
        tier: premium
        input: 1.25
        cached_input: 0.125
        output: 10.00
        service_tiers:
          flex: {input: 0.625, cached_input: 0.0625, output: 5.00}
          priority: {input: 2.50, cached_input: 0.25, output: 20.00}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      gpt-5-mini:
        provider: openai
        tier: economy
        input: 0.25
        cached_input: 0.025
        output: 2.00
        service_tiers:
          flex: {input: 0.125, cached_input: 0.0125, output: 1.00}
          priority: {input: 0.45, cached_input: 0.045, output: 3.60}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      gpt-5-nano:
        provider: openai
        tier: economy
        input: 0.05
        cached_input: 0.005
        output: 0.40
        service_tiers:
          flex: {input: 0.025, cached_input: 0.0025, output: 0.20}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      o3:
        provider: openai
        tier: premium
        input: 2.00
        cached_input: 0.50
        output: 8.00
        service_tiers:
          flex: {input: 1.00, cached_input: 0.25, output: 4.00}
          priority: {input: 3.50, cached_input: 0.875, output: 14.00}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      o4-mini:
        provider: openai
        tier: standard
        input: 1.10
        cached_input: 0.275
        output: 4.40
        service_tiers:
          flex: {input: 0.55, cached_input: 0.138, output: 2.20}
          priority: {input: 2.00, cached_input: 0.50, output: 8.00}
        as_of: 2026-12-06
        source: https://openai.com/api/pricing
      text-embedding-3-small:
        provider: openai
        tier: economy
        input: 0.02
        output: 0
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      text-embedding-3-large:
        provider: openai
        tier: economy
        input: 0.13
        output: 0
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      gpt-3.5-turbo-instruct:
        provider: openai
        tier: economy
        input: 1.50
        output: 2.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      # Anthropic: input excludes cache reads/writes on the wire; Tollgate's extractor folds
      # them into input, and each class is charged here at its own rate. cache_write is the
      # 5-minute write price (1.25x input), cache_write_1h the 1-hour one (2x). Priority Tier
      # is sold by commitment, not per token, so it is not listed (standard rates apply).
      claude-opus-4-5:
        provider: anthropic
        tier: premium
        input: 5.00
        cached_input: 0.50
        cache_write: 6.25
        cache_write_1h: 10.00
        output: 25.00
        web_search_per_1k: 10.00
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-opus-4-1:
        provider: anthropic
        tier: premium
        input: 15.00
        cached_input: 1.50
        cache_write: 18.75
        cache_write_1h: 30.00
        output: 75.00
        web_search_per_1k: 10.00
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-opus-4:
        provider: anthropic
        tier: premium
        input: 15.00
        cached_input: 1.50
        cache_write: 18.75
        cache_write_1h: 30.00
        output: 75.00
        web_search_per_1k: 10.00
        aliases: [claude-opus-4-0]
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-sonnet-4-5:
        provider: anthropic
        tier: standard
        input: 3.00
        cached_input: 0.30
        cache_write: 3.75
        cache_write_1h: 6.00
        output: 15.00
        long_context:        # with the 1M context window: the whole request above 200k prompt tokens
          above_tokens: 200000
          input: 6.00
          cached_input: 0.60
          cache_write: 7.50
          cache_write_1h: 12.00
          output: 22.50
        web_search_per_1k: 10.00
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-sonnet-4:
        provider: anthropic
        tier: standard
        input: 3.00
        cached_input: 0.30
        cache_write: 3.75
        cache_write_1h: 6.00
        output: 15.00
        long_context:        # with the 1M context window: the whole request above 200k prompt tokens
          above_tokens: 200000
          input: 6.00
          cached_input: 0.60
          cache_write: 7.50
          cache_write_1h: 12.00
          output: 22.50
        web_search_per_1k: 10.00
        aliases: [claude-sonnet-4-0]
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-3-7-sonnet:
        provider: anthropic
        tier: standard
        input: 3.00
        cached_input: 0.30
        cache_write: 3.75
        cache_write_1h: 6.00
        output: 15.00
        web_search_per_1k: 10.00
        aliases: [claude-3-7-sonnet-latest]
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-haiku-4-5:
        provider: anthropic
        tier: economy
        input: 1.00
        cached_input: 0.10
        cache_write: 1.25
        cache_write_1h: 2.00
        output: 5.00
        web_search_per_1k: 10.00
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      claude-3-5-haiku:
        provider: anthropic
        tier: economy
        input: 0.80
        cached_input: 0.08
        cache_write: 1.00
        cache_write_1h: 1.60
        output: 4.00
        web_search_per_1k: 10.00
        aliases: [claude-3-5-haiku-latest]
        as_of: 2026-12-06
        source: https://www.anthropic.com/pricing#api
      # Gemini: cached reads at 10% of input; thinking is billed as output; 2.5 Pro and 3 Pro
      # prompts over 200k tokens cost more (long_context).
      gemini-2.5-pro:
        provider: gemini
        tier: premium
        input: 1.25
        cached_input: 0.125
        output: 10.00
        long_context:
          above_tokens: 200000
          input: 2.50
          cached_input: 0.25
          output: 15.00
        as_of: 2026-12-06
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-2.5-flash:
        provider: gemini
        tier: economy
        input: 0.30
        cached_input: 0.03
        output: 2.50
        aliases: [gemini-flash-latest]
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-2.5-flash-lite:
        provider: gemini
        tier: economy
        input: 0.10
        cached_input: 0.01
        output: 0.40
        aliases: [gemini-flash-lite-latest]
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-2.0-flash:
        provider: gemini
        tier: economy
        input: 0.10
        cached_input: 0.01
        output: 0.40
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-3-pro-preview:
        provider: gemini
        tier: premium
        input: 2.00
        cached_input: 0.20
        output: 12.00
        long_context:
          above_tokens: 200000
          input: 4.00
          cached_input: 0.40
          output: 18.00
        aliases: [gemini-3-pro]
        as_of: 2026-12-06
        source: https://ai.google.dev/gemini-api/docs/pricing
    """
}
