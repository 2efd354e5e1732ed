import Foundation

/// What a budget counts. Every unit is an integer measure so budget counters add up
/// exactly, like every other counter (DESIGN.md decision 1).
public enum BudgetUnit: String, CaseIterable, Sendable, Codable {
    /// Cost in nanodollars.
    case usd
    /// Input + output tokens (input already includes cached reads and cache writes,
    /// output already includes reasoning).
    case tokens
    case requests

    @inline(__always)
    public func amount(of counters: UsageCounters) -> Int64 {
        switch self {
        case .usd: counters.cost.value
        case .tokens: counters.tokens.input &+ counters.tokens.output
        case .requests: counters.requests
        }
    }

    /// For humans: `$12.50`, `1.2M tokens`, `5,000 requests`.
    public func format(_ amount: Int64) -> String {
        switch self {
        case .usd: return Nanodollars(amount).formatted
        case .tokens: return Self.compact(amount) + " tokens"
        case .requests: return Self.compact(amount) + " requests"
        }
    }

    /// 950 → "950", 12_345 → "12.3K", 1_234_567 → "1.2M".
    static func compact(_ value: Int64) -> String {
        let units: [(Int64, String)] = [(1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")]
        for (size, suffix) in units where value.magnitude >= size.magnitude {
            let tenths = (value * 10 + (value < 0 ? -size / 2 : size / 2)) / size
            return "\(tenths / 10).\(abs(tenths % 10))\(suffix)"
        }
        return String(value)
    }
}

/// A limit as an operator writes it: `100usd`, `$100`, `12.5usd`, `2000000tokens`,
/// `2Mtokens`, `5000requests`.
public struct BudgetAmount: Hashable, Sendable, CustomStringConvertible {
    public var unit: BudgetUnit
    /// In the unit's integer measure (nanodollars for usd).
    public var value: Int64

    public init(unit: BudgetUnit, value: Int64) {
        self.unit = unit
        self.value = value
    }

    public init(parsing text: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        var unit: BudgetUnit?
        if rest.hasPrefix("$") {
            unit = .usd
            rest = rest.dropFirst()
        }
        for candidate in BudgetUnit.allCases where rest.hasSuffix(candidate.rawValue) {
            guard unit == nil else { throw BudgetError.invalidAmount(text) }
            unit = candidate
            rest = rest.dropLast(candidate.rawValue.count)
        }
        guard let unit else { throw BudgetError.invalidAmount(text) }
        rest = Substring(rest.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ",", with: ""))
        var multiplier: Int64 = 1
        if unit != .usd, let last = rest.last, let scale = ["k": 1_000, "m": 1_000_000, "b": 1_000_000_000][last] {
            multiplier = Int64(scale)
            rest = rest.dropLast()
        }
        guard let value = Self.scaledDecimal(rest, scale: unit == .usd ? Nanodollars.perDollar : multiplier) else {
            throw BudgetError.invalidAmount(text)
        }
        self.init(unit: unit, value: value)
    }

    /// `digits[.digits]` × scale, exact; nil if malformed, negative, finer than the scale or too large.
    private static func scaledDecimal(_ text: Substring, scale: Int64) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.allSatisfy(\.isASCII), let whole = Int64(wholeText), whole >= 0 else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            var place = scale
            for digit in digits {
                let value = Int64(digit.wholeNumberValue ?? 0)
                // Past the unit's precision only zeros are allowed: a limit is never rounded.
                guard place >= 10 else {
                    if value != 0 { return nil }
                    continue
                }
                place /= 10
                fraction += value * place
            }
        }
        let (product, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow, product <= Int64.max - fraction else { return nil }
        return product + fraction
    }

    /// What `init(parsing:)` reads back: `100usd`, `12.5usd`, `2000000tokens`.
    public var description: String {
        switch unit {
        case .usd:
            var text = Nanodollars(value).decimalUSD
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
            return text + "usd"
        case .tokens, .requests:
            return "\(value)\(unit.rawValue)"
        }
    }
}
