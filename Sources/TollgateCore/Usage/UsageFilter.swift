/// One `dimension=value` condition on a usage query (`?team=ml`, `--where team=ml`): only
/// cells whose dimension holds exactly that value count.
public struct UsageFilter: Hashable, Sendable {
    public var dimension: UsageDimension
    public var value: String

    public init(_ dimension: UsageDimension, _ value: String) {
        self.dimension = dimension
        self.value = value
    }

    /// `team=ml`; the dimension must be known and the value non-empty.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else { throw UsageFilterError.notAPair(text) }
        let name = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
        let value = String(text[text.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        guard let dimension = UsageDimension(rawValue: name) else { throw UsageDimensionError.unknown(name) }
        guard !value.isEmpty else { throw UsageFilterError.emptyValue(name) }
        self.init(dimension, value)
    }
}

public enum UsageFilterError: Error, CustomStringConvertible, Equatable {
    case notAPair(String)
    case emptyValue(String)

    public var description: String {
        switch self {
        case .notAPair(let text): "filter '\(text)' is not dimension=value (e.g. team=ml)"
        case .emptyValue(let name): "filter on '\(name)' has no value; write \(name)=VALUE"
        }
    }
}
