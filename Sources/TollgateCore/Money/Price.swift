import Foundation

/// A price per token class, in integer nanodollars per million tokens.
///
/// Provider price lists quote USD per million tokens with up to a few decimals
/// (`$0.075`); at nanodollar-per-million resolution every such price is an exact integer.
public struct ModelPrice: Hashable, Sendable {
    public var provider: String
    public var input: Int64
    public var cachedInput: Int64
    public var cacheWrite: Int64
    public var output: Int64

    public init(provider: String, input: Int64, cachedInput: Int64? = nil, cacheWrite: Int64? = nil, output: Int64) {
        self.provider = provider
        self.input = input
        self.cachedInput = cachedInput ?? input
        self.cacheWrite = cacheWrite ?? input
        self.output = output
    }

    /// Cost of one request: each class at its rate, summed, then rounded half-up to a
    /// whole nanodollar once. Reasoning tokens are part of `output` and priced there.
    public func cost(of tokens: TokenUsage) -> Nanodollars {
        var sum = Int128(tokens.uncachedInput) * Int128(input)
        sum += Int128(max(0, tokens.cachedInput)) * Int128(cachedInput)
        sum += Int128(max(0, tokens.cacheWrite)) * Int128(cacheWrite)
        sum += Int128(max(0, tokens.output)) * Int128(output)
        let rounded = (sum + 500_000) / 1_000_000
        return Nanodollars(Int64(clamping: rounded))
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
