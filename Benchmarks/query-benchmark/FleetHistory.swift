import Foundation
import TollgateCore

/// 90 days of a realistic fleet's usage, generated minute by minute: 1,000 keys in 10 teams,
/// 3 environments, 20 models, 50 use cases, 100 hosts. Sparse as real traffic is: a few
/// keys are busy and most are not (Zipf-like weights), each key runs 1–3 workloads (a
/// model and a use case), traffic follows the working day, and production never sleeps.
struct FleetHistory {
    struct Key {
        var id: String
        var team: String
        var project: String
        var environment: String
        var host: String
        var workloads: [(model: String, useCase: String)]
    }

    static let teams = (0..<10).map { "team-\($0)" }
    static let environments = ["prod", "staging", "ci"]
    static let models = ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini", "gpt-5", "gpt-5-mini",
                         "claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-3-7-sonnet", "gemini-2.5-pro",
                         "gemini-2.5-flash", "gemini-2.0-flash", "text-embedding-3-small", "text-embedding-3-large",
                         "gpt-realtime", "o3-mini"]
    static let useCases = (0..<50).map { "use-case-\($0)" }

    let keys: [Key]
    /// Cumulative key weights, for drawing a key in proportion to its traffic.
    private let cumulative: [Double]
    /// Mean cells per minute at the busiest hour.
    let cellsPerMinute: Double

    init(cellsPerMinute: Double, seed: UInt64) {
        var random = SplitMix(seed: seed)
        func pick<T>(_ values: [T], skew: Double) -> T {
            // Popular values first: index ~ u^skew.
            values[min(values.count - 1, Int(pow(Double.random(in: 0..<1, using: &random), skew) * Double(values.count)))]
        }
        keys = (0..<1_000).map { index in
            let workloads = (0..<Int.random(in: 1...3, using: &random)).map { _ in (pick(Self.models, skew: 2.5), pick(Self.useCases, skew: 2)) }
            return Key(id: "kid-\(String(index, radix: 16))-\(index * 7_919 % 100_000)", team: Self.teams[index % 10],
                       project: "project-\(index % 37)", environment: pick(Self.environments, skew: 1.5),
                       host: "host-\(index % 100)", workloads: workloads)
        }
        var total = 0.0
        cumulative = (1...1_000).map { rank in
            total += 1 / Double(rank)
            return total
        }
        self.cellsPerMinute = cellsPerMinute
    }

    /// The cells of one minute: a few dozen draws of (key, workload), merged when the same
    /// one is drawn twice, like an agent's meter folds a minute's requests.
    func cells(minute: Int64, random: inout SplitMix) -> [Cell] {
        let hourOfDay = Int((minute / 60) % 24)
        let weekday = ((minute / 1_440) + 3) % 7 < 5
        let busy = (weekday ? 1.0 : 0.3) * (hourOfDay >= 7 && hourOfDay < 20 ? 1.0 : 0.25)
        let draws = Int((cellsPerMinute * busy * Double.random(in: 0.6...1.4, using: &random)).rounded())
        var byKey: [String: Cell] = [:]
        for _ in 0..<draws {
            let target = Double.random(in: 0..<cumulative.last!, using: &random)
            var low = 0, high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            let key = keys[(low * 389) % keys.count]
            let workload = key.workloads[Int.random(in: 0..<key.workloads.count, using: &random)]
            var dimensions = Dimensions()
            dimensions.keyID = key.id
            dimensions.keyHint = "sk-…" + key.id.suffix(4)
            dimensions.provider = workload.model.hasPrefix("claude") ? "anthropic" : workload.model.hasPrefix("gemini") ? "gemini" : "openai"
            dimensions.model = workload.model
            dimensions.servedModel = workload.model
            dimensions.requestedModel = workload.model
            dimensions.endpoint = "chat"
            dimensions.team = key.team
            dimensions.project = key.project
            dimensions.useCase = workload.useCase
            dimensions.environment = key.environment
            dimensions.host = key.host
            var counters = UsageCounters()
            counters.requests = Int64.random(in: 1...6, using: &random)
            counters.tokens = TokenUsage(input: counters.requests * Int64.random(in: 200...4_000, using: &random),
                                         cachedInput: counters.requests * 100, output: counters.requests * Int64.random(in: 50...900, using: &random))
            counters.cost = Nanodollars(counters.tokens.input * 2_000 + counters.tokens.output * 8_000)
            let id = "\(workload.model)|\(workload.useCase)|\(key.id)"
            if var existing = byKey[id] {
                existing.counters.add(counters)
                byKey[id] = existing
            } else {
                byKey[id] = Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
            }
        }
        return Array(byKey.values)
    }
}

/// A seeded generator, so every run loads the same history.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
