import TollgateCore

/// One token class's part of a cell's cost.
public struct ClassCost: Equatable, Sendable {
    public var tokenClass: FocusTokenClass
    public var tokens: Int64
    /// Nanodollars per million tokens at list price (the catalog's standard tier).
    public var listRate: Int64
    /// `tokens × listRate`, rounded half-up to a nanodollar.
    public var listCost: Nanodollars
    /// This class's share of the cost the store holds; the shares add up to it exactly.
    public var billedCost: Nanodollars
}

/// Splits a cell's stored cost over its token classes.
///
/// The store keeps one cost per cell, summed over requests that were each priced (and
/// rounded) by the agent, possibly in another service tier, above a long-context
/// threshold, with per-call fees, or before a price change. So a class's billed cost is
/// not recomputed from the price; the stored cost is divided in proportion to each class's
/// list cost (tokens × the catalog's standard rate, the same weights the agent's pricing
/// sums), each share rounded down, and the few nanodollars left by rounding go to the class
/// with the largest list cost (the first in `FocusTokenClass` order on a tie). Every share is
/// then within a few nanodollars of its list cost when the prices match, and the shares
/// always add up to the stored cost exactly: an export's total is the store's total.
public enum CostSplit {
    public static func split(tokens: TokenUsage, cost: Nanodollars, rates: TokenRates) -> [ClassCost] {
        var parts = FocusTokenClass.allCases.compactMap { tokenClass -> ClassCost? in
            let count = tokenClass.tokens(in: tokens)
            guard count > 0 else { return nil }
            let rate = tokenClass.rate(in: rates)
            let list = (Int128(count) * Int128(rate) + 500_000) / 1_000_000
            return ClassCost(tokenClass: tokenClass, tokens: count, listRate: rate, listCost: Nanodollars(Int64(clamping: list)),
                             billedCost: .zero)
        }
        // A cost with no tokens to carry it (per-call fees alone) still needs a row, or the
        // export would lose it: it goes on an input row of zero tokens.
        if parts.isEmpty {
            guard cost != .zero else { return [] }
            return [ClassCost(tokenClass: .input, tokens: 0, listRate: rates.input, listCost: .zero, billedCost: cost)]
        }
        let weights = parts.map { Int128($0.tokens) * Int128($0.listRate) }
        let total: Int128 = weights.reduce(0, +)
        var heaviest = 0
        for index in weights.indices where weights[index] > weights[heaviest] { heaviest = index }
        guard total > 0 else {
            parts[heaviest].billedCost = cost
            return parts
        }
        var assigned: Int64 = 0
        for index in parts.indices {
            let share = Int64(clamping: Int128(cost.value) * weights[index] / total)
            parts[index].billedCost = Nanodollars(share)
            assigned &+= share
        }
        parts[heaviest].billedCost += Nanodollars(cost.value &- assigned)
        return parts
    }
}
