/// How far Tollgate and a provider may disagree and still be called a match.
///
/// A value matches when |Tollgate − provider| ≤ `basisPoints` / 10,000 of the provider's
/// value, or ≤ the absolute slack. The defaults, 1 % and one cent, absorb what is expected:
/// providers round their cost lines, a stream cut before its last usage event is an
/// estimate on Tollgate's side, and a call in flight across midnight can land on either
/// side of a day boundary. Tokens have no absolute slack: a token count is exact on both
/// sides unless an estimate was involved, and 1 % covers that.
public struct ReconcileTolerance: Equatable, Sendable, Codable {
    /// Hundredths of a percent: 100 is 1 %.
    public var basisPoints: Int64
    public var costSlack: Int64

    public static let `default` = ReconcileTolerance(basisPoints: 100, costSlack: 10_000_000)

    public init(basisPoints: Int64, costSlack: Int64) {
        self.basisPoints = basisPoints
        self.costSlack = costSlack
    }

    enum CodingKeys: String, CodingKey {
        case basisPoints = "basis_points"
        case costSlack = "cost_slack_nanousd"
    }

    /// Parses `1`, `0.5`, `2.25` (percent, up to two decimals) into basis points.
    public static func basisPoints(percent text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, whole <= 100 else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            fraction = Int64(parts[1].padding(toLength: 2, withPad: "0", startingAt: 0))!
        }
        return whole * 100 + fraction
    }

    func tokensMatch(tollgate: Int64, provider: Int64) -> Bool {
        within(difference: tollgate - provider, of: provider, slack: 0)
    }

    func costMatches(tollgate: Int64, provider: Int64) -> Bool {
        within(difference: tollgate - provider, of: provider, slack: costSlack)
    }

    private func within(difference: Int64, of reference: Int64, slack: Int64) -> Bool {
        let magnitude = Int128(difference.magnitude)
        return magnitude <= Int128(slack) || magnitude * 10_000 <= Int128(basisPoints) * Int128(reference.magnitude)
    }
}
