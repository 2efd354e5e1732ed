import TollgateCore

/// The token classes a FOCUS row is billed for. They partition a cell's tokens so each
/// token is on exactly one row, the way the price catalog bills them: input not read from
/// or written to a cache, cache reads, 5-minute and 1-hour cache writes, output other than
/// reasoning, and reasoning (billed at the output rate).
public enum FocusTokenClass: String, CaseIterable, Sendable, Codable {
    case input
    case cachedInput = "cached_input"
    case cacheWrite = "cache_write"
    case cacheWrite1h = "cache_write_1h"
    case output
    case reasoning

    /// Tokens of this class in `tokens`, whose `input` includes cache reads and writes and
    /// whose `output` includes reasoning.
    public func tokens(in tokens: TokenUsage) -> Int64 {
        switch self {
        case .input: tokens.uncachedInput
        case .cachedInput: max(0, tokens.cachedInput)
        case .cacheWrite: tokens.cacheWrite5m
        case .cacheWrite1h: min(max(0, tokens.cacheWrite1h), max(0, tokens.cacheWrite))
        case .output: max(0, tokens.output - min(max(0, tokens.reasoning), max(0, tokens.output)))
        case .reasoning: min(max(0, tokens.reasoning), max(0, tokens.output))
        }
    }

    /// Nanodollars per million tokens of this class in `rates`.
    public func rate(in rates: TokenRates) -> Int64 {
        switch self {
        case .input: rates.input
        case .cachedInput: rates.cachedInput
        case .cacheWrite: rates.cacheWrite
        case .cacheWrite1h: rates.cacheWrite1h
        case .output, .reasoning: rates.output
        }
    }

    /// `x_TokenDirection`.
    public var direction: String {
        switch self {
        case .input, .cachedInput, .cacheWrite, .cacheWrite1h: "input"
        case .output, .reasoning: "output"
        }
    }

    /// `x_TokenCacheAction`: what the prompt cache did with these tokens.
    public var cacheAction: String {
        switch self {
        case .cachedInput: "read"
        case .cacheWrite: "write_5m"
        case .cacheWrite1h: "write_1h"
        case .input, .output, .reasoning: "none"
        }
    }

    /// `SkuMeter`: the name a price list gives the thing measured.
    public var meter: String {
        switch self {
        case .input: "Input Tokens"
        case .cachedInput: "Cached Input Tokens"
        case .cacheWrite: "Cache Write Tokens (5 minutes)"
        case .cacheWrite1h: "Cache Write Tokens (1 hour)"
        case .output: "Output Tokens"
        case .reasoning: "Reasoning Tokens"
        }
    }
}
