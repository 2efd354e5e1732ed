import Foundation
import TollgateCore

/// Usage of Anthropic's Messages API (`/v1/messages`) non-streaming responses.
///
/// Anthropic's `input_tokens` excludes cache reads and cache writes, so `TokenUsage.input`
/// is the sum of all three; `output_tokens` already includes thinking.
public enum AnthropicMessagesUsage {
    public static func extract(from body: Data) throws -> ExtractedUsage {
        try read(body).usage.get()
    }

    static func read(_ body: some Collection<UInt8>) -> BodyReading {
        guard let message = JSONValue(parsing: body)?.object else { return .malformed }
        let usage: AnthropicUsageObject?
        do {
            usage = try message.strictObject("usage").map(AnthropicUsageObject.init)
        } catch {
            return .malformed
        }
        // A `tool_use` block's `input` is an object whose size a meter would have to
        // re-serialise to count, so only text and thinking blocks count for estimates.
        let characters = message.objects("content")?.reduce(0) { $0 + $1.meteredLength("text") + $1.meteredLength("thinking") } ?? 0
        return BodyReading(model: message.string("model"), outputCharacters: characters) {
            try usage.map(AnthropicUsageFields.init)?.extracted(model: nil)
        }
    }
}

/// Anthropic's `usage` object, in a message, in `message_start` and in `message_delta`.
/// A count of the wrong type makes the report unreadable.
///
/// Beyond the counts: `cache_creation` splits the cache writes by lifetime
/// (`ephemeral_5m_input_tokens`, `ephemeral_1h_input_tokens`; `cache_creation_input_tokens`
/// is their sum), `service_tier` names the tier that served the call (`standard`,
/// `priority`, `batch`), and `server_tool_use.web_search_requests` counts the web searches
/// billed per call.
struct AnthropicUsageObject: Sendable {
    var input_tokens: Int64?
    var cache_creation_input_tokens: Int64?
    var ephemeral_5m_input_tokens: Int64?
    var ephemeral_1h_input_tokens: Int64?
    var cache_read_input_tokens: Int64?
    var output_tokens: Int64?
    var thinking_tokens: Int64?
    var service_tier: ServiceTier?
    var web_search_requests: Int64?

    init(_ usage: JSONObject) throws {
        input_tokens = try usage.count("input_tokens")
        cache_creation_input_tokens = try usage.count("cache_creation_input_tokens")
        let creation = try usage.strictObject("cache_creation")
        ephemeral_5m_input_tokens = try creation?.count("ephemeral_5m_input_tokens")
        ephemeral_1h_input_tokens = try creation?.count("ephemeral_1h_input_tokens")
        cache_read_input_tokens = try usage.count("cache_read_input_tokens")
        output_tokens = try usage.count("output_tokens")
        thinking_tokens = try usage.strictObject("output_tokens_details")?.count("thinking_tokens")
        // An unknown tier name is not a reason to distrust the counts: it reads as unsaid.
        service_tier = usage["service_tier"]?.serviceTier
        web_search_requests = try usage.strictObject("server_tool_use")?.count("web_search_requests")
    }
}

/// The usage numbers of an Anthropic message as last reported, field by field.
///
/// A stream reports them twice: `message_start` with the input and cache counts and a
/// placeholder output count, `message_delta` with the cumulative final output count (and,
/// in the current API, the input and cache counts again). The last value of each field
/// wins; adding them would double-count.
struct AnthropicUsageFields: Sendable, Equatable {
    var input: Int64?
    var cacheWrite: Int64?
    var cacheWrite5m: Int64?
    var cacheWrite1h: Int64?
    var cacheRead: Int64?
    var output: Int64?
    var thinking: Int64?
    var serviceTier: ServiceTier?
    var webSearchRequests: Int64?

    init() {}

    /// Reads a usage object, rejecting implausible counts before they can be kept.
    init(_ usage: AnthropicUsageObject) throws {
        input = try usage.input_tokens.map { try plausible($0, "input_tokens") }
        cacheWrite = try usage.cache_creation_input_tokens.map { try plausible($0, "cache_creation_input_tokens") }
        cacheWrite5m = try usage.ephemeral_5m_input_tokens.map { try plausible($0, "cache_creation.ephemeral_5m_input_tokens") }
        cacheWrite1h = try usage.ephemeral_1h_input_tokens.map { try plausible($0, "cache_creation.ephemeral_1h_input_tokens") }
        cacheRead = try usage.cache_read_input_tokens.map { try plausible($0, "cache_read_input_tokens") }
        output = try usage.output_tokens.map { try plausible($0, "output_tokens") }
        thinking = try usage.thinking_tokens.map { try plausible($0, "output_tokens_details.thinking_tokens") }
        serviceTier = usage.service_tier
        webSearchRequests = try usage.web_search_requests.map { try plausible($0, "server_tool_use.web_search_requests") }
    }

    /// Takes every field `newer` reports, keeping the older value of those it omits.
    mutating func overlay(_ newer: AnthropicUsageFields) {
        input = newer.input ?? input
        cacheWrite = newer.cacheWrite ?? cacheWrite
        cacheWrite5m = newer.cacheWrite5m ?? cacheWrite5m
        cacheWrite1h = newer.cacheWrite1h ?? cacheWrite1h
        cacheRead = newer.cacheRead ?? cacheRead
        output = newer.output ?? output
        thinking = newer.thinking ?? thinking
        serviceTier = newer.serviceTier ?? serviceTier
        webSearchRequests = newer.webSearchRequests ?? webSearchRequests
    }

    func tokens() throws -> TokenUsage {
        let cacheRead = cacheRead ?? 0
        // `cache_creation_input_tokens` is the sum of the two lifetimes; should a response
        // ever disagree with its own split, the larger figure is billed, so that the 1-hour
        // part always fits inside the total.
        let split = (cacheWrite5m ?? 0) + (cacheWrite1h ?? 0)
        let cacheWrite = max(self.cacheWrite ?? 0, split)
        return TokenUsage(
            input: try plausible((input ?? 0) + cacheRead + cacheWrite, "input_tokens+cache_read_input_tokens+cache_creation_input_tokens"),
            cachedInput: cacheRead,
            cacheWrite: cacheWrite,
            cacheWrite1h: cacheWrite1h ?? 0,
            output: output ?? 0,
            reasoning: thinking ?? 0
        )
    }

    func extracted(model: String?) throws -> ExtractedUsage {
        ExtractedUsage(model: model, tokens: try tokens(), serviceTier: serviceTier, webSearchRequests: webSearchRequests ?? 0)
    }
}
