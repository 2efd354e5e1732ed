/// A provider whose own usage and cost reports Tollgate can pull and compare with what it
/// metered. Azure OpenAI and Gemini have no such admin report reachable with a key, so they
/// are not reconciled.
public enum ReconcileProvider: String, CaseIterable, Sendable, Codable {
    case openai, anthropic

    /// The `provider` dimension the agent records for this provider's calls.
    var meteredName: String { rawValue }
}
