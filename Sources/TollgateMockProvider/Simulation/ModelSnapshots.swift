/// The model name the real API puts in its response for a requested alias.
///
/// OpenAI answers `gpt-4o` with `gpt-4o-2024-08-06`, Anthropic `claude-sonnet-4-5` with
/// `claude-sonnet-4-5-20250929`, and Gemini's `-latest` aliases name a preview build.
/// Meters that price by the requested name instead of the returned one get this wrong,
/// so the mock must reproduce it.
enum ModelSnapshots {
    static let snapshots: [String: String] = [
        "gpt-4o": "gpt-4o-2024-08-06",
        "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
        "gpt-4.1": "gpt-4.1-2025-04-14",
        "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
        "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
        "gpt-5": "gpt-5-2025-08-07",
        "gpt-5-mini": "gpt-5-mini-2025-08-07",
        "gpt-5-nano": "gpt-5-nano-2025-08-07",
        "o3": "o3-2025-04-16",
        "o4-mini": "o4-mini-2025-04-16",
        "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5": "claude-haiku-4-5-20251001",
        "claude-opus-4-1": "claude-opus-4-1-20250805",
        "claude-opus-4-0": "claude-opus-4-20250514",
        "claude-sonnet-4-0": "claude-sonnet-4-20250514",
        "claude-3-7-sonnet-latest": "claude-3-7-sonnet-20250219",
        "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
        "gemini-flash-latest": "gemini-2.5-flash-preview-09-2025",
        "gemini-flash-lite-latest": "gemini-2.5-flash-lite-preview-09-2025",
    ]

    /// Already-dated and unknown names come back unchanged, as they do from the providers.
    static func responseModel(forRequested model: String) -> String {
        snapshots[model] ?? model
    }

    /// o-series models (`o1`, `o3-mini`, `o4-mini`, …) and GPT-5 spend part of their output on reasoning.
    static func isReasoningModel(_ model: String) -> Bool {
        model.hasPrefix("o") || model.hasPrefix("gpt-5")
    }

    /// Gemini models that think before answering, reporting `thoughtsTokenCount`:
    /// every `-pro`, 2.5 Flash (not Flash-Lite), the 3.x family and explicit thinking models.
    static func isGeminiThinkingModel(_ model: String) -> Bool {
        model.contains("-pro") || model.contains("thinking") || model.hasPrefix("gemini-3")
            || (model.hasPrefix("gemini-2.5-flash") && !model.contains("lite"))
    }
}
