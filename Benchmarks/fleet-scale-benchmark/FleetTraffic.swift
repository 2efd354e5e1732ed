import Foundation
import TollgateCore

/// The cells agents ship, shaped like `ingest-benchmark`'s so the two rates compare: keys ×
/// models × teams × environments × projects, a minute or two per batch, a few requests each.
enum FleetTraffic {
    static let teams = ["ml", "web", "data", "infra", "search", "ads", "mobile", "platform"]
    static let environments = ["ci", "prod", "staging"]
    static let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-pro"]

    static func cells(count: Int, variant: Int) -> [Cell] {
        let minute = Int64(Date().timeIntervalSince1970) / 60
        return (0..<count).map { index in
            var dimensions = Dimensions()
            dimensions.keyID = "key-\((index + variant * 31) % 250)"
            dimensions.keyHint = "sk-…\(index % 250)"
            dimensions.provider = "openai"
            dimensions.model = models[index % models.count]
            dimensions.team = teams[(index / 4) % teams.count]
            dimensions.environment = environments[(index / 32) % environments.count]
            dimensions.project = "project-\(index % 17)"
            dimensions.host = "fleet-host-\(variant)"
            var counters = UsageCounters()
            counters.requests = Int64(1 + (index * 7 + variant) % 20)
            counters.tokens = TokenUsage(input: counters.requests * 800, cachedInput: counters.requests * 200, output: counters.requests * 150)
            counters.cost = Nanodollars(counters.requests * 2_500_000)
            return Cell(key: CellKey(minute: minute - Int64(index % 2), dimensions: dimensions), counters: counters)
        }
    }

    /// The one cell that crosses the cap of budget `team=<team>` (requests, limit 10).
    static func crossing(team: String) -> Cell {
        var dimensions = Dimensions()
        dimensions.team = team
        dimensions.model = "gpt-4o"
        dimensions.provider = "openai"
        var counters = UsageCounters()
        counters.requests = 20
        counters.cost = Nanodollars(20 * 2_500_000)
        return Cell(key: CellKey(minute: Int64(Date().timeIntervalSince1970) / 60, dimensions: dimensions), counters: counters)
    }
}
