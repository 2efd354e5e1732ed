/// How much traffic to send, as which keys, to which models, in which wire formats.
///
/// Request `i` uses key `i % apiKeys.count`, format `i % formats.count`, and model
/// `(i / apiKeys.count) % n` of that format's model list (`models` for OpenAI chat,
/// Responses and Azure deployments; the others have their own), so a rerun attributes
/// identically.
public struct TrafficPlan: Sendable {
    public var apiKeys: [String]
    public var models: [String]
    public var requests: Int
    public var concurrency: Int
    public var formats: [TrafficFormat]
    public var anthropicModels: [String]
    public var geminiModels: [String]
    public var embeddingModels: [String]
    public var completionModels: [String]

    public static let defaultAnthropicModels = ["claude-sonnet-4-5", "claude-haiku-4-5"]
    public static let defaultGeminiModels = ["gemini-2.5-flash", "gemini-2.5-pro"]
    public static let defaultEmbeddingModels = ["text-embedding-3-small"]
    public static let defaultCompletionModels = ["gpt-3.5-turbo-instruct"]

    public init(
        apiKeys: [String], models: [String], requests: Int, concurrency: Int,
        formats: [TrafficFormat] = [.openaiChat],
        anthropicModels: [String] = TrafficPlan.defaultAnthropicModels,
        geminiModels: [String] = TrafficPlan.defaultGeminiModels,
        embeddingModels: [String] = TrafficPlan.defaultEmbeddingModels,
        completionModels: [String] = TrafficPlan.defaultCompletionModels
    ) {
        self.apiKeys = apiKeys
        self.models = models
        self.requests = requests
        self.concurrency = concurrency
        self.formats = formats
        self.anthropicModels = anthropicModels
        self.geminiModels = geminiModels
        self.embeddingModels = embeddingModels
        self.completionModels = completionModels
    }

    /// Stable, recognisable demo keys: `sk-tollgate-demo-0000000000000000000001` for 1,
    /// numbered from 1 through `count`, so configs and dashboards can name them in advance.
    public static func demoKeys(count: Int) -> [String] {
        (0..<max(0, count)).map { index in
            let number = String(index + 1)
            return "sk-tollgate-demo-" + String(repeating: "0", count: max(0, 22 - number.count)) + number
        }
    }

    func models(for format: TrafficFormat) -> [String] {
        switch format.provider {
        case .anthropic: anthropicModels
        case .gemini: geminiModels
        case .openai where format == .openaiEmbeddings: embeddingModels
        case .openai where format == .openaiCompletions: completionModels
        case .openai, .azure: models
        }
    }

    /// Throws `TrafficError.invalidPlan` naming what to change.
    public func validate() throws {
        if apiKeys.isEmpty { throw TrafficError.invalidPlan("no API keys; pass at least one key (e.g. --keys 1)") }
        if formats.isEmpty { throw TrafficError.invalidPlan("no formats; pass at least one (e.g. --formats openaiChat)") }
        for format in Set(formats) where models(for: format).isEmpty {
            throw TrafficError.invalidPlan("no models for \(format.rawValue); pass at least one (e.g. --models gpt-4o-mini)")
        }
        if requests < 0 { throw TrafficError.invalidPlan("request count \(requests) is negative") }
        if concurrency < 1 { throw TrafficError.invalidPlan("concurrency \(concurrency) must be at least 1") }
    }
}
