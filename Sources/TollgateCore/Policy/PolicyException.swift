/// A time-boxed exception to one policy: requests in `scope` are not subject to it until
/// `untilUnix`. The reason and the author are what a FinOps review of exceptions reads.
public struct PolicyException: Hashable, Sendable, Codable {
    public var scope: BudgetSelector
    /// Seconds since the Unix epoch; the exception ends at this instant.
    public var untilUnix: Int64
    public var reason: String
    public var author: String
    public var createdUnix: Int64

    public init(scope: BudgetSelector, untilUnix: Int64, reason: String, author: String, createdUnix: Int64) {
        self.scope = scope
        self.untilUnix = untilUnix
        self.reason = reason
        self.author = author
        self.createdUnix = createdUnix
    }

    public func covers(_ dimensions: Dimensions, nowUnix: Int64) -> Bool {
        nowUnix < untilUnix && scope.matches(dimensions)
    }
}
