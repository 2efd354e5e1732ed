import TollgateMockProvider

/// Renders ledger-shaped entries as an aligned table with a total row.
enum UsageTable {
    static func render(_ entries: [LedgerEntry]) -> String {
        let header = ["PROVIDER", "KEY", "MODEL", "REQUESTS", "PROMPT", "CACHED", "CACHE WRITE", "COMPLETION", "REASONING"]
        var total = LedgerEntry(apiKey: "", model: "", provider: "TOTAL")
        for entry in entries {
            total.requests += entry.requests
            total.promptTokens += entry.promptTokens
            total.cachedTokens += entry.cachedTokens
            total.cacheWriteTokens += entry.cacheWriteTokens
            total.completionTokens += entry.completionTokens
            total.reasoningTokens += entry.reasoningTokens
        }
        let rows = [header] + (entries + [total]).map { entry in
            [entry.provider, entry.apiKey, entry.model] + [
                entry.requests, entry.promptTokens, entry.cachedTokens, entry.cacheWriteTokens,
                entry.completionTokens, entry.reasoningTokens,
            ].map(grouped)
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - row[column].count)
                // Text columns left-aligned, numbers right-aligned so digits line up.
                return column < 3 ? row[column] + padding : padding + row[column]
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `1234567` → `1,234,567`, without locale surprises.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }
}
