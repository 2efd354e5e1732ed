/// How much traffic to send, as which keys, to which models.
///
/// Request `i` uses key `i % apiKeys.count` and model `(i / apiKeys.count) % models.count`,
/// so every key meets every model and a rerun attributes identically.
public struct TrafficPlan: Sendable {
    public var apiKeys: [String]
    public var models: [String]
    public var requests: Int
    public var concurrency: Int

    public init(apiKeys: [String], models: [String], requests: Int, concurrency: Int) {
        self.apiKeys = apiKeys
        self.models = models
        self.requests = requests
        self.concurrency = concurrency
    }

    /// Stable, recognisable demo keys: `sk-tollgate-demo-0000000000000000000001` for 1,
    /// numbered from 1 through `count`, so configs and dashboards can name them in advance.
    public static func demoKeys(count: Int) -> [String] {
        (0..<max(0, count)).map { index in
            let number = String(index + 1)
            return "sk-tollgate-demo-" + String(repeating: "0", count: max(0, 22 - number.count)) + number
        }
    }

    func validate() throws {
        if apiKeys.isEmpty { throw TrafficError.invalidPlan("no API keys; pass at least one key (e.g. --keys 1)") }
        if models.isEmpty { throw TrafficError.invalidPlan("no models; pass at least one (e.g. --models gpt-4o-mini)") }
        if requests < 0 { throw TrafficError.invalidPlan("request count \(requests) is negative") }
        if concurrency < 1 { throw TrafficError.invalidPlan("concurrency \(concurrency) must be at least 1") }
    }
}
