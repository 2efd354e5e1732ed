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
    # Each entry is one model: its id is the canonical name budgets and reports use, and
    # `aliases` are other names of the same model (a dated snapshot such as
    # gpt-4.1-2025-04-14 is found from its undated name without listing it). Distinct
    # models that cost the same are separate entries, never aliases.
    models:
      gpt-4o:
        provider: openai
        input: 2.50
        cached_input: 1.25
        output: 10.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      chatgpt-4o-latest:
        provider: openai
        input: 2.50
        cached_input: 1.25
        output: 10.00
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
      gpt-3.5-turbo-instruct:
        provider: openai
        input: 1.50
        output: 2.00
        as_of: 2026-11-01
        source: https://openai.com/api/pricing
      # Anthropic: input excludes cache reads/writes on the wire; Tollgate's extractor folds
      # them into input, and each class is charged here at its own rate. cache_write is the
      # 5-minute write price (1.25x input); 1-hour writes (2x) are not split out yet.
      claude-opus-4-5:
        provider: anthropic
        input: 5.00
        cached_input: 0.50
        cache_write: 6.25
        output: 25.00
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-opus-4-1:
        provider: anthropic
        input: 15.00
        cached_input: 1.50
        cache_write: 18.75
        output: 75.00
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-opus-4:
        provider: anthropic
        input: 15.00
        cached_input: 1.50
        cache_write: 18.75
        output: 75.00
        aliases: [claude-opus-4-0]
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-sonnet-4-5:
        provider: anthropic
        input: 3.00
        cached_input: 0.30
        cache_write: 3.75
        output: 15.00
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-sonnet-4:
        provider: anthropic
        input: 3.00
        cached_input: 0.30
        cache_write: 3.75
        output: 15.00
        aliases: [claude-sonnet-4-0]
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-3-7-sonnet:
        provider: anthropic
        input: 3.00
        cached_input: 0.30
        cache_write: 3.75
        output: 15.00
        aliases: [claude-3-7-sonnet-latest]
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-haiku-4-5:
        provider: anthropic
        input: 1.00
        cached_input: 0.10
        cache_write: 1.25
        output: 5.00
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      claude-3-5-haiku:
        provider: anthropic
        input: 0.80
        cached_input: 0.08
        cache_write: 1.00
        output: 4.00
        aliases: [claude-3-5-haiku-latest]
        as_of: 2026-11-01
        source: https://www.anthropic.com/pricing#api
      # Gemini: prompts up to 200k tokens (longer 2.5 Pro prompts cost more and are not
      # modelled yet); cached reads at 10% of input; thinking is billed as output.
      gemini-2.5-pro:
        provider: gemini
        input: 1.25
        cached_input: 0.125
        output: 10.00
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-2.5-flash:
        provider: gemini
        input: 0.30
        cached_input: 0.03
        output: 2.50
        aliases: [gemini-flash-latest]
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-2.5-flash-lite:
        provider: gemini
        input: 0.10
        cached_input: 0.01
        output: 0.40
        aliases: [gemini-flash-lite-latest]
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-2.0-flash:
        provider: gemini
        input: 0.10
        cached_input: 0.01
        output: 0.40
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
      gemini-3-pro-preview:
        provider: gemini
        input: 2.00
        cached_input: 0.20
        output: 12.00
        aliases: [gemini-3-pro]
        as_of: 2026-11-01
        source: https://ai.google.dev/gemini-api/docs/pricing
    """
}
