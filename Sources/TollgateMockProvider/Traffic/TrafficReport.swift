/// What the traffic driver's clients were billed, as they saw it in the responses.
///
/// `entries` has the same grouping and order as the mock's `LedgerSnapshot.entries`, so a
/// correct path from client through agent to mock makes the two equal, as long as every
/// format shows its usage. A chat stream without `include_usage` is billed but shows
/// nothing: such requests count in `entries` with zero tokens, and in `usageHidden`.
public struct TrafficReport: Codable, Hashable, Sendable {
    /// Requests attempted.
    public var requests: Int
    /// Requests that did not come back 200 with a readable, complete body.
    public var failures: Int
    public var entries: [LedgerEntry]
    /// The first few failure reasons, enough to diagnose without flooding the output.
    public var failureSamples: [String]
    /// Requests, failures and hidden usage per wire format, in `TrafficFormat` order.
    public var formats: [FormatCount]

    public struct FormatCount: Codable, Hashable, Sendable {
        public var format: TrafficFormat
        public var requests: Int
        public var failures: Int
        /// Succeeded, but the response carried no usage for the client to see.
        public var usageHidden: Int

        public init(format: TrafficFormat, requests: Int = 0, failures: Int = 0, usageHidden: Int = 0) {
            self.format = format
            self.requests = requests
            self.failures = failures
            self.usageHidden = usageHidden
        }

        enum CodingKeys: String, CodingKey {
            case format, requests, failures
            case usageHidden = "usage_hidden"
        }
    }

    public init(requests: Int, failures: Int, entries: [LedgerEntry], failureSamples: [String] = [], formats: [FormatCount] = []) {
        self.requests = requests
        self.failures = failures
        self.entries = entries
        self.failureSamples = failureSamples
        self.formats = formats
    }

    /// Successful requests whose usage the clients could not see.
    public var usageHidden: Int { formats.reduce(0) { $0 + $1.usageHidden } }

    enum CodingKeys: String, CodingKey {
        case requests, failures, entries, formats
        case failureSamples = "failure_samples"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requests = try container.decode(Int.self, forKey: .requests)
        failures = try container.decode(Int.self, forKey: .failures)
        entries = try container.decode([LedgerEntry].self, forKey: .entries)
        failureSamples = try container.decodeIfPresent([String].self, forKey: .failureSamples) ?? []
        formats = try container.decodeIfPresent([FormatCount].self, forKey: .formats) ?? []
    }
}

/// Problems the driver cannot work around, each naming what to change.
public enum TrafficError: Error, CustomStringConvertible {
    case invalidPlan(String)
    case badStatus(url: String, status: Int, body: String)
    case undecodable(url: String, reason: String)

    public var description: String {
        switch self {
        case .invalidPlan(let reason):
            "invalid traffic plan: \(reason)"
        case .badStatus(let url, let status, let body):
            "\(url) answered HTTP \(status): \(body.prefix(300)); is that the mock's address?"
        case .undecodable(let url, let reason):
            "\(url) returned a body that is not a mock ledger (\(reason)); point --mock-url at tollgate-mock serve"
        }
    }
}
