import Foundation

/// A model's prices, in integer nanodollars per million tokens: a rate per token class,
/// per service tier and on each side of a long-context threshold, plus per-call tool fees.
///
/// Provider price lists quote USD per million tokens with up to a few decimals
/// (`$0.075`); at nanodollar-per-million resolution every such price is an exact integer.
/// What a list states is resolved into a `RateTable` once, here; a list that leaves out a
/// tier or a class gets the provider's rule (see `init(provider:standard:serviceTiers:longContext:webSearchPer1k:)`).
public struct ModelPrice: Hashable, Sendable {
    public var provider: String
    public private(set) var rates: RateTable
    /// A request whose prompt (`TokenUsage.input`, cache reads and writes included) is
    /// larger than this is priced entirely at the long-context rows; `Int64.max` when the
    /// model has no such band. "Larger than": a prompt of exactly the threshold is not long.
    public private(set) var longContextThreshold: Int64
    /// Server-side web search, nanodollars per 1,000 calls (providers quote "$10 per 1,000").
    public private(set) var webSearchPer1k: Int64
    /// Which rates were derived rather than stated.
    public private(set) var derived: DerivedRates
    /// Bit `tier.rawValue` is set for each tier the price list stated (a bit mask, not a
    /// `Set`, to keep the value free of reference counts).
    private var statedTierBits: UInt8

    /// Whether the price list stated rates for `tier` (standard always counts as stated).
    public func states(_ tier: ServiceTier) -> Bool { statedTierBits & (1 << tier.rawValue) != 0 }

    /// The long-context band of a price list: its threshold and its rates, for the
    /// standard tier and any other tier it states.
    public struct LongContext: Hashable, Sendable {
        public var aboveTokens: Int64
        public var standard: DeclaredRates
        public var serviceTiers: [ServiceTier: DeclaredRates]

        public init(aboveTokens: Int64, standard: DeclaredRates, serviceTiers: [ServiceTier: DeclaredRates] = [:]) {
            self.aboveTokens = aboveTokens
            self.standard = standard
            self.serviceTiers = serviceTiers
        }
    }

    /// Resolves a price list's statements into the full table:
    /// - a tier it does not state costs the standard rates, except `batch`, which the three
    ///   providers all bill at half the standard rates;
    /// - a class a tier or band leaves out scales with that tier's or band's input rate
    ///   (`DeclaredRates.completed`);
    /// - a tier above the long-context threshold, unless stated, is the long-context rates
    ///   scaled class by class as that tier scales the standard ones (Gemini's batch is half
    ///   of each band); if stated in part, its other classes scale with its input rate
    ///   against the long-context one.
    public init(provider: String, standard: TokenRates, serviceTiers: [ServiceTier: DeclaredRates] = [:],
                longContext: LongContext? = nil, webSearchPer1k: Int64 = 0) {
        self.provider = provider
        self.webSearchPer1k = webSearchPer1k
        var table = RateTable(standard)
        var derived = DerivedRates()
        var stated: UInt8 = 1 << ServiceTier.standard.rawValue
        for tier in ServiceTier.allCases where tier != .standard {
            let declared = serviceTiers[tier] ?? DeclaredRates()
            if !declared.isEmpty { stated |= 1 << tier.rawValue }
            let (rates, missing) = declared.completed(from: standard, defaultRatio: tier == .batch ? .half : .one)
            table[tier, longContext: false] = rates
            for priced in missing { derived.insert(tier, longContext: false, priced) }
        }
        if let longContext {
            longContextThreshold = max(0, longContext.aboveTokens)
            let (long, missing) = longContext.standard.completed(from: standard, defaultRatio: .one)
            table[.standard, longContext: true] = long
            for priced in missing { derived.insert(.standard, longContext: true, priced) }
            for tier in ServiceTier.allCases where tier != .standard {
                if let declared = longContext.serviceTiers[tier], !declared.isEmpty {
                    let (rates, missing) = declared.completed(from: long, defaultRatio: .one)
                    table[tier, longContext: true] = rates
                    for priced in missing { derived.insert(tier, longContext: true, priced) }
                    continue
                }
                var rates = long
                let short = table[tier, longContext: false]
                for priced in PricedClass.allCases {
                    let base = standard[priced]
                    rates[priced] = base > 0 ? DeclaredRates.Ratio(short[priced], base).apply(to: long[priced]) : short[priced]
                    derived.insert(tier, longContext: true, priced)
                }
                table[tier, longContext: true] = rates
            }
        } else {
            longContextThreshold = Int64.max
            for tier in ServiceTier.allCases {
                table[tier, longContext: true] = table[tier, longContext: false]
            }
        }
        self.rates = table
        self.derived = derived
        self.statedTierBits = stated
    }

    /// One rate per class for every tier and length: the shape of most price lists.
    public init(provider: String, input: Int64, cachedInput: Int64? = nil, cacheWrite: Int64? = nil,
                cacheWrite1h: Int64? = nil, output: Int64) {
        self.init(provider: provider, standard: TokenRates(input: input, cachedInput: cachedInput, cacheWrite: cacheWrite,
                                                           cacheWrite1h: cacheWrite1h, output: output))
    }

    /// The standard tier's rates for prompts under the threshold: what a price list leads with.
    public var standard: TokenRates { rates[.standard, longContext: false] }
    public var input: Int64 { standard.input }
    public var cachedInput: Int64 { standard.cachedInput }
    public var cacheWrite: Int64 { standard.cacheWrite }
    public var cacheWrite1h: Int64 { standard.cacheWrite1h }
    public var output: Int64 { standard.output }
    public var hasLongContext: Bool { longContextThreshold != Int64.max }

    /// Cost of one request: each class at its rate in the row of its tier and length,
    /// summed with the per-call fees, then rounded half-up to a whole nanodollar once.
    /// Reasoning tokens are part of `output` and priced there.
    public func cost(of usage: BillableUsage) -> Nanodollars {
        cost(of: usage, longContext: usage.tokens.input > longContextThreshold)
    }

    /// Cost at the rates of the band given rather than the one the prompt's size picks:
    /// for sums of requests known to be on one side of the threshold (a ledger's totals),
    /// whose summed prompt says nothing about any one request's.
    public func cost(of usage: BillableUsage, longContext: Bool) -> Nanodollars {
        let tokens = usage.tokens
        let row = rates[usage.serviceTier, longContext: longContext]
        let writes = max(0, tokens.cacheWrite)
        let writes1h = min(max(0, tokens.cacheWrite1h), writes)
        var sum = Int128(tokens.uncachedInput) * Int128(row.input)
        sum += Int128(max(0, tokens.cachedInput)) * Int128(row.cachedInput)
        sum += Int128(writes - writes1h) * Int128(row.cacheWrite)
        sum += Int128(writes1h) * Int128(row.cacheWrite1h)
        sum += Int128(max(0, tokens.output)) * Int128(row.output)
        // Per 1,000 calls, in the sum's unit of a millionth of a nanodollar: × 1e6 / 1e3.
        sum += Int128(max(0, usage.webSearchRequests)) * Int128(webSearchPer1k) * 1_000
        let rounded = (sum + 500_000) / 1_000_000
        return Nanodollars(Int64(clamping: rounded))
    }

    /// Cost of tokens in the standard tier with no tool calls.
    public func cost(of tokens: TokenUsage) -> Nanodollars {
        cost(of: BillableUsage(tokens: tokens))
    }
}

public enum PriceError: Error, CustomStringConvertible, Equatable {
    case notADecimal(String)

    public var description: String {
        switch self {
        case .notADecimal(let text):
            "'\(text)' is not a USD amount; expected a decimal number such as 2.50 with at most 9 decimals"
        }
    }
}

/// Parses a decimal USD string (`"2.50"`, `"0.075"`) into nanodollars, exactly.
public func parseUSDToNanodollars(_ text: String) throws -> Int64 {
    let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "$", with: "")
    let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, let wholeText = parts.first, !wholeText.isEmpty || parts.count == 2,
          wholeText.allSatisfy(\.isASCII), wholeText.allSatisfy(\.isNumber) else {
        throw PriceError.notADecimal(text)
    }
    let fractionText = parts.count == 2 ? parts[1] : ""
    guard fractionText.count <= 9, fractionText.allSatisfy(\.isASCII), fractionText.allSatisfy(\.isNumber),
          let whole = Int64(wholeText.isEmpty ? "0" : String(wholeText)), whole < 1_000_000_000 else {
        throw PriceError.notADecimal(text)
    }
    let fraction = Int64(fractionText.padding(toLength: 9, withPad: "0", startingAt: 0)) ?? 0
    return whole * Nanodollars.perDollar + fraction
}

/// Formats nanodollars as the shortest exact decimal USD (`2.5`, `0.075`, `10`): how
/// catalogs and `prices` print a rate.
public func formatUSD(nanodollars value: Int64) -> String {
    let sign = value < 0 ? "-" : ""
    let magnitude = value.magnitude
    let whole = magnitude / UInt64(Nanodollars.perDollar)
    var fraction = String(magnitude % UInt64(Nanodollars.perDollar))
    fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
