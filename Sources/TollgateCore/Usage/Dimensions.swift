import Foundation

/// An attribution dimension: one axis usage can be grouped and capped by. (Named so it
/// does not collide with Foundation's unit `Dimension`.)
public enum UsageDimension: String, CaseIterable, Sendable, Codable {
    case key, provider
    /// The canonical model (the price catalog's id, `gpt-4.1`): what budgets and reports mean by "model".
    case model
    /// The snapshot the provider said it served (`gpt-4.1-2025-04-14`); empty when it named none.
    case servedModel = "served_model"
    /// The model name as the request spelled it (`gpt-4.1`, `models/gemini-2.5-pro`, an Azure deployment).
    case requestedModel = "requested_model"
    case endpoint, team, project, user
    case useCase = "use_case"
    case environment = "env"
    case host

    /// Parses a comma-separated list such as `key,model`.
    /// `key,model` → [.key, .model]; an empty list, an empty name or a repeated one is an error.
    public static func parseList(_ text: String) throws -> [UsageDimension] {
        let dimensions = try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let dimension = UsageDimension(rawValue: name) else {
                throw UsageDimensionError.unknown(name)
            }
            return dimension
        }
        if let repeated = dimensions.first(where: { dimension in dimensions.filter { $0 == dimension }.count > 1 }) {
            throw UsageDimensionError.repeated(repeated.rawValue)
        }
        return dimensions
    }
}

public enum UsageDimensionError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case repeated(String)

    public var description: String {
        let known = UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")
        return switch self {
        case .unknown(""):
            "an empty dimension name; expected one or more of \(known), joined by commas (e.g. team,model)"
        case .unknown(let name):
            "unknown dimension '\(name)'; expected one of: \(known)"
        case .repeated(let name):
            "dimension '\(name)' is named twice; name each at most once"
        }
    }
}

/// The values of every dimension for one request or cell; an empty string means unset.
public struct Dimensions: Hashable, Sendable, Codable {
    public var keyID: String = ""
    /// A short, non-secret reminder of which key this is (`openai:sk-…wxyz`); carried beside `keyID`.
    public var keyHint: String = ""
    public var provider: String = ""
    /// Canonical (see `PriceCatalog.resolve`), so a snapshot and its alias are one model.
    public var model: String = ""
    /// As the provider reported it; empty for errors, blocked requests and cut streams that named none.
    public var servedModel: String = ""
    /// As the request named it; empty when it named none.
    public var requestedModel: String = ""
    public var endpoint: String = ""
    public var team: String = ""
    public var project: String = ""
    public var user: String = ""
    public var useCase: String = ""
    public var environment: String = ""
    public var host: String = ""

    public init() {}

    /// Whether `dimension` holds `value`; compares the stored string without copying it.
    @inlinable
    public func has(_ dimension: UsageDimension, equalTo value: String) -> Bool {
        switch dimension {
        case .key: keyID == value
        case .provider: provider == value
        case .model: model == value
        case .servedModel: servedModel == value
        case .requestedModel: requestedModel == value
        case .endpoint: endpoint == value
        case .team: team == value
        case .project: project == value
        case .user: user == value
        case .useCase: useCase == value
        case .environment: environment == value
        case .host: host == value
        }
    }

    public subscript(dimension: UsageDimension) -> String {
        get {
            switch dimension {
            case .key: keyID
            case .provider: provider
            case .model: model
            case .servedModel: servedModel
            case .requestedModel: requestedModel
            case .endpoint: endpoint
            case .team: team
            case .project: project
            case .user: user
            case .useCase: useCase
            case .environment: environment
            case .host: host
            }
        }
        set {
            switch dimension {
            case .key: keyID = newValue
            case .provider: provider = newValue
            case .model: model = newValue
            case .servedModel: servedModel = newValue
            case .requestedModel: requestedModel = newValue
            case .endpoint: endpoint = newValue
            case .team: team = newValue
            case .project: project = newValue
            case .user: user = newValue
            case .useCase: useCase = newValue
            case .environment: environment = newValue
            case .host: host = newValue
            }
        }
    }

    /// Only the given dimensions kept (plus the key hint when the key is kept); the rest unset.
    public func projected(onto dimensions: [UsageDimension]) -> Dimensions {
        var result = Dimensions()
        for dimension in dimensions { result[dimension] = self[dimension] }
        if dimensions.contains(.key) { result.keyHint = keyHint }
        return result
    }
}
