/// The five priced token classes, named once so that catalogs, the LiteLLM reader and
/// `prices --check` agree on what a class is called.
public enum PricedClass: Int, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case input, cachedInput, cacheWrite, cacheWrite1h, output

    /// The key in a YAML catalog.
    public var description: String {
        switch self {
        case .input: "input"
        case .cachedInput: "cached_input"
        case .cacheWrite: "cache_write"
        case .cacheWrite1h: "cache_write_1h"
        case .output: "output"
        }
    }
}

/// A rate for every priced class, in nanodollars per million tokens: one row of a model's
/// rate table. `cacheWrite` is the 5-minute write, `cacheWrite1h` the 1-hour write.
public struct TokenRates: Hashable, Sendable {
    public var input: Int64
    public var cachedInput: Int64
    public var cacheWrite: Int64
    public var cacheWrite1h: Int64
    public var output: Int64

    /// A class a price list leaves out costs what it always did before it was split out:
    /// cache reads and writes the input rate, 1-hour writes the 5-minute rate.
    public init(input: Int64, cachedInput: Int64? = nil, cacheWrite: Int64? = nil, cacheWrite1h: Int64? = nil, output: Int64) {
        self.input = input
        self.cachedInput = cachedInput ?? input
        self.cacheWrite = cacheWrite ?? input
        self.cacheWrite1h = cacheWrite1h ?? cacheWrite ?? input
        self.output = output
    }

    public subscript(_ priced: PricedClass) -> Int64 {
        get {
            switch priced {
            case .input: input
            case .cachedInput: cachedInput
            case .cacheWrite: cacheWrite
            case .cacheWrite1h: cacheWrite1h
            case .output: output
            }
        }
        set {
            switch priced {
            case .input: input = newValue
            case .cachedInput: cachedInput = newValue
            case .cacheWrite: cacheWrite = newValue
            case .cacheWrite1h: cacheWrite1h = newValue
            case .output: output = newValue
            }
        }
    }
}

/// Rates as a price list states them for a service tier or a long-context band, where
/// any class may be left out.
public struct DeclaredRates: Hashable, Sendable {
    public var values: [PricedClass: Int64]

    public init(_ values: [PricedClass: Int64] = [:]) { self.values = values }

    public var isEmpty: Bool { values.isEmpty }

    public subscript(_ priced: PricedClass) -> Int64? {
        get { values[priced] }
        set { values[priced] = newValue }
    }

    /// Every class, the missing ones taken from `reference` scaled by the ratio the list
    /// implies: its input rate to the reference's (its output rate's, without an input
    /// rate), else `defaultRatio`. That is how providers state these bands ("batch: 50 %
    /// off", "above 200k: 2x input"), so a list that names only input and output still
    /// prices cache reads and writes in the same proportion. Also returns which classes
    /// were derived rather than stated.
    func completed(from reference: TokenRates, defaultRatio: Ratio) -> (rates: TokenRates, derived: Set<PricedClass>) {
        let ratio: Ratio
        if let input = values[.input], reference.input > 0 {
            ratio = Ratio(input, reference.input)
        } else if let output = values[.output], reference.output > 0 {
            ratio = Ratio(output, reference.output)
        } else {
            ratio = defaultRatio
        }
        var rates = reference
        var derived: Set<PricedClass> = []
        for priced in PricedClass.allCases {
            if let stated = values[priced] {
                rates[priced] = stated
            } else if priced == .cacheWrite1h, values[.cacheWrite] != nil {
                // A list that states the 5-minute write but not the 1-hour one keeps the
                // base model's proportion between them.
                rates[priced] = Ratio(reference.cacheWrite1h, max(1, reference.cacheWrite)).apply(to: rates.cacheWrite)
                derived.insert(priced)
            } else {
                rates[priced] = ratio.apply(to: reference[priced])
                derived.insert(priced)
            }
        }
        return (rates, derived)
    }

    /// An exact integer ratio, applied with half-up rounding: no floating point between a
    /// price list and a counter.
    struct Ratio: Hashable {
        var numerator: Int64
        var denominator: Int64

        init(_ numerator: Int64, _ denominator: Int64) {
            self.numerator = numerator
            self.denominator = max(1, denominator)
        }

        static let one = Ratio(1, 1)
        static let half = Ratio(1, 2)

        func apply(to value: Int64) -> Int64 {
            let product = Int128(value) * Int128(numerator)
            return Int64(clamping: (product + Int128(denominator / 2)) / Int128(denominator))
        }
    }
}
