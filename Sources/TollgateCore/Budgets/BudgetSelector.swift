import Foundation

/// Which usage a budget counts: every cell whose dimensions equal all the given values
/// (`team=ml,env=ci`), or everything (`*`).
///
/// Matching runs for every cell and every budget on the aggregator's ingest thread, so it
/// compares stored strings only and allocates nothing.
public struct BudgetSelector: Hashable, Sendable, CustomStringConvertible {
    public struct Condition: Hashable, Sendable {
        public var dimension: UsageDimension
        public var value: String

        public init(_ dimension: UsageDimension, _ value: String) {
            self.dimension = dimension
            self.value = value
        }
    }

    /// Sorted by dimension, one per dimension; empty means the whole org.
    public let conditions: [Condition]

    /// The whole org: every cell matches.
    public static let all = BudgetSelector(conditions: [])

    public init(conditions: [Condition]) {
        self.conditions = conditions.sorted { Self.order($0.dimension) < Self.order($1.dimension) }
    }

    public var isAll: Bool { conditions.isEmpty }

    public func matches(_ dimensions: Dimensions) -> Bool {
        // By index and compared in place: `for condition in` and the subscript getter
        // would each copy (retain) a string per condition.
        for index in conditions.indices where !dimensions.has(conditions[index].dimension, equalTo: conditions[index].value) {
            return false
        }
        return true
    }

    /// Parses `*` or comma-separated `dimension=value` pairs; a dimension may appear once.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" {
            self = .all
            return
        }
        guard !trimmed.isEmpty else { throw BudgetError.invalidSelector(text, reason: "it is empty; use * for the whole org") }
        var conditions: [Condition] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else {
                throw BudgetError.invalidSelector(text, reason: "'\(part)' is not dimension=value")
            }
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            guard let dimension = UsageDimension(rawValue: name) else {
                throw BudgetError.invalidSelector(text, reason: "\(UsageDimensionError.unknown(name))")
            }
            guard !value.isEmpty else {
                throw BudgetError.invalidSelector(text, reason: "'\(name)' has no value")
            }
            guard !conditions.contains(where: { $0.dimension == dimension }) else {
                throw BudgetError.invalidSelector(text, reason: "'\(name)' appears twice (all pairs must match, so one value per dimension)")
            }
            conditions.append(Condition(dimension, value))
        }
        self.init(conditions: conditions)
    }

    /// `*`, or the pairs in a stable order: what `init(parsing:)` reads back.
    public var description: String {
        isAll ? "*" : conditions.map { "\($0.dimension.rawValue)=\($0.value)" }.joined(separator: ",")
    }

    private static func order(_ dimension: UsageDimension) -> Int {
        UsageDimension.allCases.firstIndex(of: dimension) ?? 0
    }
}

extension BudgetSelector: Codable {
    public init(from decoder: Decoder) throws {
        try self.init(parsing: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
