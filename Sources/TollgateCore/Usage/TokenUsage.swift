/// Token counts of one request, one field per billing class.
///
/// The classes follow the providers' invoices rather than any one API's field names:
/// `input` is all prompt tokens *including* cached reads and cache writes, `output` is
/// all generated tokens *including* reasoning. Providers that report these differently
/// (Anthropic reports input excluding cache) are normalised by their extractor, so
/// pricing has one rule for everyone.
///
/// Counts nest the same way for cache writes: `cacheWrite` is every prompt-cache write,
/// and `cacheWrite1h` the part of it written with Anthropic's 1-hour lifetime (priced
/// higher than the 5-minute default). Nesting rather than splitting keeps every total
/// recorded before the 1-hour class existed correct as it stands: it simply has no
/// 1-hour part.
public struct TokenUsage: Hashable, Sendable, Codable {
    public var input: Int64
    public var cachedInput: Int64
    public var cacheWrite: Int64
    /// 1-hour cache writes, part of `cacheWrite`.
    public var cacheWrite1h: Int64
    public var output: Int64
    public var reasoning: Int64

    public init(input: Int64 = 0, cachedInput: Int64 = 0, cacheWrite: Int64 = 0, cacheWrite1h: Int64 = 0,
                output: Int64 = 0, reasoning: Int64 = 0) {
        self.input = input
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
        self.cacheWrite1h = cacheWrite1h
        self.output = output
        self.reasoning = reasoning
    }

    public static let zero = TokenUsage()

    /// Prompt tokens billed at the plain input rate.
    public var uncachedInput: Int64 { max(0, input - cachedInput - cacheWrite) }

    /// Cache writes with the default 5-minute lifetime.
    public var cacheWrite5m: Int64 { max(0, cacheWrite - max(0, cacheWrite1h)) }

    /// Adds every class of `other`, wrapping rather than trapping (counters are sums).
    public mutating func add(_ other: TokenUsage) {
        input &+= other.input
        cachedInput &+= other.cachedInput
        cacheWrite &+= other.cacheWrite
        cacheWrite1h &+= other.cacheWrite1h
        output &+= other.output
        reasoning &+= other.reasoning
    }

    private enum CodingKeys: String, CodingKey {
        case input, cachedInput, cacheWrite, cacheWrite1h, output, reasoning
    }

    /// Encodings written before `cacheWrite1h` existed decode with no 1-hour writes.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        input = try container.decode(Int64.self, forKey: .input)
        cachedInput = try container.decode(Int64.self, forKey: .cachedInput)
        cacheWrite = try container.decode(Int64.self, forKey: .cacheWrite)
        cacheWrite1h = try container.decodeIfPresent(Int64.self, forKey: .cacheWrite1h) ?? 0
        output = try container.decode(Int64.self, forKey: .output)
        reasoning = try container.decode(Int64.self, forKey: .reasoning)
    }
}
