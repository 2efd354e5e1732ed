/// Everything about one request that sets its price: the tokens per class, the service
/// tier that served it and the calls to tools the provider charges per use.
///
/// Kept apart from `TokenUsage`, which is also a counter summed over many requests: a
/// tier or a long-context threshold applies to one request, never to a sum.
public struct BillableUsage: Hashable, Sendable {
    public var tokens: TokenUsage
    public var serviceTier: ServiceTier
    /// Server-side web searches the provider ran and bills per call (Anthropic's
    /// `usage.server_tool_use.web_search_requests`).
    public var webSearchRequests: Int64

    public init(tokens: TokenUsage, serviceTier: ServiceTier = .standard, webSearchRequests: Int64 = 0) {
        self.tokens = tokens
        self.serviceTier = serviceTier
        self.webSearchRequests = webSearchRequests
    }
}
