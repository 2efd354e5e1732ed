/// The dated snapshot the real API names in its response for a requested alias.
///
/// OpenAI answers `gpt-4o` with `gpt-4o-2024-08-06`; meters that price by the requested
/// name instead of the returned one get this wrong, so the mock must reproduce it.
enum ModelSnapshots {
    static let snapshots: [String: String] = [
        "gpt-4o": "gpt-4o-2024-08-06",
        "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
        "gpt-4.1": "gpt-4.1-2025-04-14",
        "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
        "o4-mini": "o4-mini-2025-04-16",
    ]

    /// Already-dated and unknown names come back unchanged, as they do from OpenAI.
    static func responseModel(forRequested model: String) -> String {
        snapshots[model] ?? model
    }

    /// o-series models (`o1`, `o3-mini`, `o4-mini`, …) spend part of their output on reasoning.
    static func isReasoningModel(_ model: String) -> Bool {
        model.hasPrefix("o")
    }
}
