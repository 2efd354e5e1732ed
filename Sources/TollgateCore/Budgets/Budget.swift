import Foundation

/// What happens when spend reaches a budget's limit.
public enum BudgetAction: String, CaseIterable, Sendable, Codable {
    /// Agents refuse requests the budget covers until the window ends.
    case block
    /// Alerts only; with a hard ceiling, agents block at the ceiling instead.
    case alert
    // With `block` and a hard ceiling, agents block at the ceiling too: the limit alerts,
    // the ceiling blocks (`Budget.blockAt`).
}

/// A cap on spend: what it covers (`selector`), how much (`limit` in `unit`), over which
/// calendar window (`period` in `timeZone`), who to warn when (`thresholds`) and what to do
/// at the limit (`action`, `hardCeilingPercent`).
///
/// The JSON field names are stable: agents, the CLI and the API all read this shape.
public struct Budget: Hashable, Sendable, Codable {
    public var id: String
    public var selector: BudgetSelector
    public var unit: BudgetUnit
    /// In the unit's integer measure: nanodollars, tokens or requests.
    public var limit: Int64
    public var period: BudgetPeriod
    /// An IANA zone id (`Europe/Paris`); windows align to its calendar.
    public var timeZone: String
    /// Soft alert thresholds in percent of the limit, ascending, each in 1…99.
    public var thresholds: [Int]
    public var action: BudgetAction
    /// Above 100: agents block at limit × ceiling / 100 (not at the limit), whatever `action` is.
    public var hardCeilingPercent: Int?
    /// Who to ask for more (an email, a channel): shown to engineers a budget blocks.
    public var owner: String
    public var description: String
    /// `observe`: agents never block on it, they count what it would refuse.
    public var mode: BudgetMode = .enforce

    public static let defaultThresholds = [50, 75, 90]

    public init(id: String, selector: BudgetSelector, unit: BudgetUnit, limit: Int64, period: BudgetPeriod,
                timeZone: String = "UTC", thresholds: [Int] = Budget.defaultThresholds, action: BudgetAction = .block,
                hardCeilingPercent: Int? = nil, owner: String = "", description: String = "") {
        self.id = id
        self.selector = selector
        self.unit = unit
        self.limit = limit
        self.period = period
        self.timeZone = timeZone
        self.thresholds = thresholds
        self.action = action
        self.hardCeilingPercent = hardCeilingPercent
        self.owner = owner
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case id, selector, unit, limit, period
        case timeZone = "time_zone"
        case thresholds, action
        case hardCeilingPercent = "hard_ceiling_percent"
        case owner, description, mode
    }

    /// Optional fields may be left out of a PUT body; they take their defaults.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        selector = try container.decode(BudgetSelector.self, forKey: .selector)
        unit = try container.decode(BudgetUnit.self, forKey: .unit)
        limit = try container.decode(Int64.self, forKey: .limit)
        period = try container.decode(BudgetPeriod.self, forKey: .period)
        timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone) ?? "UTC"
        thresholds = try container.decodeIfPresent([Int].self, forKey: .thresholds) ?? Self.defaultThresholds
        action = try container.decodeIfPresent(BudgetAction.self, forKey: .action) ?? .block
        hardCeilingPercent = try container.decodeIfPresent(Int.self, forKey: .hardCeilingPercent)
        owner = try container.decodeIfPresent(String.self, forKey: .owner) ?? ""
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        mode = try container.decodeIfPresent(BudgetMode.self, forKey: .mode) ?? .enforce
    }

    /// The zone, once `validate()` has passed.
    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")! }

    /// Fails with a message naming the field and what it must be.
    public func validate() throws {
        try Self.validateID(id)
        guard limit >= 0 else { throw BudgetError.invalidField("limit", "\(limit)", expected: "zero or more") }
        guard TimeZone(identifier: timeZone) != nil else {
            throw BudgetError.invalidField("time_zone", timeZone, expected: "an IANA time zone id such as UTC or Europe/Paris")
        }
        guard thresholds.allSatisfy({ (1...99).contains($0) }), thresholds == Array(Set(thresholds)).sorted() else {
            throw BudgetError.invalidField("thresholds", thresholds.map(String.init).joined(separator: ","),
                                           expected: "distinct ascending percentages from 1 to 99 (the limit itself always alerts)")
        }
        if let ceiling = hardCeilingPercent {
            guard ceiling > 100 && ceiling <= 10_000 else {
                throw BudgetError.invalidField("hard_ceiling_percent", "\(ceiling)", expected: "a percentage above 100 (e.g. 150), at most 10000")
            }
        }
        guard owner.count <= 256, description.count <= 1_024 else {
            throw BudgetError.invalidField(owner.count > 256 ? "owner" : "description", "…", expected: "at most 256 (owner) or 1024 (description) characters")
        }
    }

    /// Ids go into URLs, keys and metric labels: lowercase letters, digits, `.`, `_`, `-`.
    public static func validateID(_ id: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard !id.isEmpty, id.count <= 128, id.allSatisfy({ allowed.contains($0) }) else {
            throw BudgetError.invalidID(id)
        }
    }

    /// The amount at which agents refuse requests; nil if this budget never blocks. A hard
    /// ceiling is where blocking starts whatever the action (an operator who sets
    /// `--action block --hard-ceiling 150` means 150 %, which `budget show` says); without
    /// one, a `block` budget blocks at its limit and an `alert` budget never.
    public func blockAt(effectiveLimit: Int64) -> Int64? {
        switch (action, hardCeilingPercent) {
        case (_, let ceiling?): return Self.percent(ceiling, of: effectiveLimit)
        case (.block, nil): return effectiveLimit
        case (.alert, nil): return nil
        }
    }

    /// `amount × percent / 100`, rounded down, saturating instead of overflowing.
    public static func percent(_ percent: Int, of amount: Int64) -> Int64 {
        let product = Int128(amount) * Int128(percent) / 100
        return product > Int128(Int64.max) ? Int64.max : Int64(product)
    }
}

/// Why a budget, an exemption or an amount was refused, naming the field and the fix.
public enum BudgetError: Error, CustomStringConvertible, Equatable {
    case invalidID(String)
    case invalidSelector(String, reason: String)
    case invalidAmount(String)
    case invalidField(String, String, expected: String)

    public var description: String {
        switch self {
        case .invalidID(let id):
            "budget id '\(id)' is not valid; expected 1 to 128 characters from a-z, 0-9, '.', '_' and '-'"
        case .invalidSelector(let text, let reason):
            "selector '\(text)' is not valid: \(reason); expected * or dimension=value pairs joined by commas, e.g. team=ml,env=ci"
        case .invalidAmount(let text):
            "amount '\(text)' is not valid; expected a number and a unit, e.g. 100usd, 12.50usd, 2000000tokens, 2Mtokens or 5000requests"
        case .invalidField(let field, let value, let expected):
            "budget field '\(field)' has value '\(value)'; expected \(expected)"
        }
    }
}
