import TollgateCore

/// Sums usage per (provider, api_key, model); shared by the mock's ledger and the traffic
/// driver's report so that both sides of a comparison group and sort identically.
struct UsageTally {
    private struct Group: Hashable {
        var provider: String
        var apiKey: String
        var model: String
    }

    private var groups: [Group: LedgerEntry] = [:]

    mutating func add(_ request: BilledRequest) {
        let group = Group(provider: request.provider.rawValue, apiKey: request.apiKey, model: request.model)
        var entry = groups[group] ?? LedgerEntry(apiKey: request.apiKey, model: request.model, provider: group.provider)
        entry.requests += 1
        entry.promptTokens += Int(request.tokens.input)
        entry.cachedTokens += Int(request.tokens.cachedInput)
        entry.cacheWriteTokens += Int(request.tokens.cacheWrite)
        entry.cacheWrite1hTokens += Int(request.tokens.cacheWrite1h)
        entry.completionTokens += Int(request.tokens.output)
        entry.reasoningTokens += Int(request.tokens.reasoning)
        groups[group] = entry
    }

    var entries: [LedgerEntry] {
        groups.values.sorted { ($0.provider, $0.apiKey, $0.model) < ($1.provider, $1.apiKey, $1.model) }
    }
}

/// One billed request in Tollgate's normalised token classes (see `LedgerEntry`).
struct BilledRequest: Sendable {
    var provider: MockProvider
    var apiKey: String
    var model: String
    var tokens: TokenUsage
}

/// The APIs the mock imitates, as named in the ledger.
enum MockProvider: String, Sendable {
    case openai, azure, anthropic, gemini
}
