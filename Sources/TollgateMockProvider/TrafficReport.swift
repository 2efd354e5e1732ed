/// What the traffic driver's clients were billed, as they saw it in the responses.
///
/// `entries` has the same grouping and order as the mock's `LedgerSnapshot.entries`, so a
/// correct path from client through agent to mock makes the two equal.
public struct TrafficReport: Codable, Hashable, Sendable {
    /// Requests attempted.
    public var requests: Int
    /// Requests that did not come back 200 with a readable usage object.
    public var failures: Int
    public var entries: [LedgerEntry]
    /// The first few failure reasons, enough to diagnose without flooding the output.
    public var failureSamples: [String]

    public init(requests: Int, failures: Int, entries: [LedgerEntry], failureSamples: [String] = []) {
        self.requests = requests
        self.failures = failures
        self.entries = entries
        self.failureSamples = failureSamples
    }

    enum CodingKeys: String, CodingKey {
        case requests, failures, entries
        case failureSamples = "failure_samples"
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
