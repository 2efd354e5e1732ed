/// Sums usage per (api_key, model); shared by the mock's ledger and the traffic driver's
/// report so that both sides of a comparison group and sort identically.
struct UsageTally {
    private struct Group: Hashable {
        var apiKey: String
        var model: String
    }

    private var groups: [Group: LedgerEntry] = [:]

    mutating func add(apiKey: String, model: String, prompt: Int, cached: Int, completion: Int, reasoning: Int) {
        let group = Group(apiKey: apiKey, model: model)
        var entry = groups[group] ?? LedgerEntry(apiKey: apiKey, model: model)
        entry.requests += 1
        entry.promptTokens += prompt
        entry.cachedTokens += cached
        entry.completionTokens += completion
        entry.reasoningTokens += reasoning
        groups[group] = entry
    }

    var entries: [LedgerEntry] {
        groups.values.sorted { ($0.apiKey, $0.model) < ($1.apiKey, $1.model) }
    }
}
