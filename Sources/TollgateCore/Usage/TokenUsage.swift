/// Token counts of one request, one field per billing class.
///
/// The classes follow the providers' invoices rather than any one API's field names:
/// `input` is all prompt tokens *including* cached reads and cache writes, `output` is
/// all generated tokens *including* reasoning. Providers that report these differently
/// (Anthropic reports input excluding cache) are normalised by their extractor, so
/// pricing has one rule for everyone.
public struct TokenUsage: Hashable, Sendable, Codable {
    public var input: Int64
    public var cachedInput: Int64
    public var cacheWrite: Int64
    public var output: Int64
    public var reasoning: Int64

    public init(input: Int64 = 0, cachedInput: Int64 = 0, cacheWrite: Int64 = 0, output: Int64 = 0, reasoning: Int64 = 0) {
        self.input = input
        self.cachedInput = cachedInput
        self.cacheWrite = cacheWrite
        self.output = output
        self.reasoning = reasoning
    }

    public static let zero = TokenUsage()

    /// Prompt tokens billed at the plain input rate.
    public var uncachedInput: Int64 { max(0, input - cachedInput - cacheWrite) }
}
