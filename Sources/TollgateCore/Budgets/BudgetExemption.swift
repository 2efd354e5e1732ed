import Foundation

/// A temporary raise of a budget's limit, with who asked and why.
///
/// Exemptions are an audit trail: they are never edited or deleted, not even when their
/// budget is removed. They belong to the budget *id*, so a budget re-created under the
/// same id is raised by its still-active exemptions again.
public struct BudgetExemption: Hashable, Sendable, Codable {
    public var budgetID: String
    /// The raised limit, in the budget's unit (nanodollars, tokens or requests).
    public var limit: Int64
    /// Active in [from, until), Unix seconds.
    public var from: Int64
    public var until: Int64
    public var reason: String
    public var author: String
    public var createdAt: Int64

    public init(budgetID: String, limit: Int64, from: Int64, until: Int64, reason: String, author: String, createdAt: Int64) {
        self.budgetID = budgetID
        self.limit = limit
        self.from = from
        self.until = until
        self.reason = reason
        self.author = author
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case budgetID = "budget_id"
        case limit, from, until, reason, author
        case createdAt = "created_at"
    }

    public func isActive(at unixSeconds: Int64) -> Bool { from <= unixSeconds && unixSeconds < until }

    public func validate() throws {
        try Budget.validateID(budgetID)
        guard limit >= 0 else { throw BudgetError.invalidField("limit", "\(limit)", expected: "zero or more") }
        for (field, value) in [("from", from), ("until", until)] where !(0...TimeExpression.latest).contains(value) {
            throw BudgetError.invalidField(field, "\(value)", expected: "Unix seconds between 1970 and 9999")
        }
        guard from < until else {
            throw BudgetError.invalidField("until", "\(until)", expected: "a time after 'from' (\(from))")
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw BudgetError.invalidField("reason", "", expected: "why the limit is raised (kept in the audit trail)")
        }
        guard !author.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw BudgetError.invalidField("author", "", expected: "who raised the limit (kept in the audit trail)")
        }
    }

    /// The limit in force at `unixSeconds`: the budget's own, or the highest active exemption.
    public static func effectiveLimit(_ limit: Int64, exemptions: [BudgetExemption], at unixSeconds: Int64) -> Int64 {
        var result = limit
        for exemption in exemptions where exemption.isActive(at: unixSeconds) {
            result = max(result, exemption.limit)
        }
        return result
    }
}
