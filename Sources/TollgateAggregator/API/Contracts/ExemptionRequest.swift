/// The body of `POST /v1/budgets/{id}/exemptions`; times are Unix seconds.
public struct ExemptionRequest: Codable, Sendable {
    public var limit: Int64
    /// Default: now.
    public var from: Int64?
    public var until: Int64
    public var reason: String
    public var author: String

    public init(limit: Int64, from: Int64? = nil, until: Int64, reason: String, author: String) {
        self.limit = limit
        self.from = from
        self.until = until
        self.reason = reason
        self.author = author
    }
}
