import TollgateCore

/// The kinds of scope whose daily spend is watched for anomalies: each value of these
/// dimensions (each team, each key, …) is compared with its own 7-day normal.
public enum AnomalyScope: String, CaseIterable, Sendable, Codable {
    case team, key
    case useCase = "use_case"
    case environment = "env"

    public var dimension: UsageDimension {
        switch self {
        case .team: .team
        case .key: .key
        case .useCase: .useCase
        case .environment: .environment
        }
    }
}
