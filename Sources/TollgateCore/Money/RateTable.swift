/// A model's rates for every (service tier, long context or not) pair, resolved once when
/// the catalog is built so that pricing a request is an index and five multiplications.
///
/// Eight rows stored inline rather than in an array or a dictionary: a price is copied out
/// of the catalog for every metered request on every event loop, and an inline value costs
/// no reference count (an atomic shared by every thread) and no hashing.
public struct RateTable: Hashable, Sendable {
    private var standard, flex, priority, batch: TokenRates
    private var standardLong, flexLong, priorityLong, batchLong: TokenRates

    /// Every row starts as `rates`.
    init(_ rates: TokenRates) {
        (standard, flex, priority, batch) = (rates, rates, rates, rates)
        (standardLong, flexLong, priorityLong, batchLong) = (rates, rates, rates, rates)
    }

    public subscript(_ tier: ServiceTier, longContext longContext: Bool) -> TokenRates {
        get {
            switch (tier, longContext) {
            case (.standard, false): standard
            case (.flex, false): flex
            case (.priority, false): priority
            case (.batch, false): batch
            case (.standard, true): standardLong
            case (.flex, true): flexLong
            case (.priority, true): priorityLong
            case (.batch, true): batchLong
            }
        }
        set {
            switch (tier, longContext) {
            case (.standard, false): standard = newValue
            case (.flex, false): flex = newValue
            case (.priority, false): priority = newValue
            case (.batch, false): batch = newValue
            case (.standard, true): standardLong = newValue
            case (.flex, true): flexLong = newValue
            case (.priority, true): priorityLong = newValue
            case (.batch, true): batchLong = newValue
            }
        }
    }
}

/// Which entries of a `RateTable` a price list stated and which Tollgate derived, one bit
/// per (tier, band, class): what `tollgate-agent prices` marks and `prices --check` skips.
public struct DerivedRates: Hashable, Sendable {
    private var bits: UInt64 = 0

    init() {}

    private static func bit(_ tier: ServiceTier, _ longContext: Bool, _ priced: PricedClass) -> UInt64 {
        1 << UInt64((Int(tier.rawValue) * 2 + (longContext ? 1 : 0)) * PricedClass.allCases.count + priced.rawValue)
    }

    public func contains(_ tier: ServiceTier, longContext: Bool, _ priced: PricedClass) -> Bool {
        bits & Self.bit(tier, longContext, priced) != 0
    }

    mutating func insert(_ tier: ServiceTier, longContext: Bool, _ priced: PricedClass) {
        bits |= Self.bit(tier, longContext, priced)
    }
}
