import Foundation
import Testing
import TollgateCore
@testable import TollgateProviders

/// A response fixture, the tap that reads it and what it must report.
struct TapFixture: Sendable, CustomTestStringConvertible {
    enum Kind: Sendable {
        case openAIChatSSE, openAIResponsesSSE, anthropicSSE, geminiSSE, geminiJSONArray
        case buffered(ProviderEndpoint)
    }

    var name: String
    var kind: Kind
    var expected: TapResult

    var testDescription: String { name }

    var isStreaming: Bool {
        if case .buffered = kind { return false }
        return true
    }

    func makeTap() -> any UsageTap {
        switch kind {
        case .openAIChatSSE: OpenAIChatStreamTap()
        case .openAIResponsesSSE: OpenAIResponsesStreamTap()
        case .anthropicSSE: AnthropicMessagesStreamTap()
        case .geminiSSE: GeminiSSETap()
        case .geminiJSONArray: GeminiJSONArrayTap()
        case .buffered(let endpoint): BufferedJSONTap(endpoint: endpoint)
        }
    }

    func bytes() throws -> [UInt8] { [UInt8](try fixture(name)) }

    /// `tier`: the service tier the response names, if it names one.
    init(_ name: String, _ kind: Kind, model: String? = nil, _ tokens: TokenUsage?, tier: ServiceTier? = nil,
         webSearches: Int64 = 0, characters: Int, problems: [TapProblem] = []) {
        self.name = name
        self.kind = kind
        expected = TapResult(
            usage: tokens.map { ExtractedUsage(model: model, tokens: $0, serviceTier: tier, webSearchRequests: webSearches) },
            outputCharacters: characters,
            problems: problems.map(\.rawValue)
        )
    }
}

extension TapFixture {
    static let streams: [TapFixture] = [
        TapFixture("openai-chat-stream-include-usage.sse", .openAIChatSSE, model: "gpt-4o-mini-2024-07-18",
                   TokenUsage(input: 19, output: 9), tier: .standard, characters: 34),
        TapFixture("openai-chat-stream-tool-cached-reasoning.sse", .openAIChatSSE, model: "o4-mini-2025-04-16",
                   TokenUsage(input: 2006, cachedInput: 1920, output: 151, reasoning: 128), tier: .standard, characters: 45),
        TapFixture("openai-chat-stream-no-usage.sse", .openAIChatSSE, nil, characters: 58),
        TapFixture("openai-completions-stream.sse", .openAIChatSSE, model: "gpt-3.5-turbo-instruct:20230824-v2",
                   TokenUsage(input: 8, output: 9), characters: 33),
        TapFixture("openai-responses-stream.sse", .openAIResponsesSSE, model: "o4-mini-2025-04-16",
                   TokenUsage(input: 1543, cachedInput: 1152, output: 412, reasoning: 384), tier: .standard, characters: 45),
        TapFixture("openai-responses-incomplete.sse", .openAIResponsesSSE, model: "gpt-5-mini-2025-08-07",
                   TokenUsage(input: 31, output: 64, reasoning: 64), tier: .standard, characters: 0),
        // Anthropic input excludes cache: 12 + 4096 read + 1536 written.
        TapFixture("anthropic-stream.sse", .anthropicSSE, model: "claude-sonnet-4-5-20250929",
                   TokenUsage(input: 5644, cachedInput: 4096, cacheWrite: 1536, output: 30), tier: .standard, characters: 108),
        // message_delta reports only output_tokens (older API): input comes from message_start.
        TapFixture("anthropic-stream-thinking-tool.sse", .anthropicSSE, model: "claude-opus-4-1-20250805",
                   TokenUsage(input: 2345, cacheWrite: 1024, output: 312), characters: 129),
        // The 1-hour split comes only in message_start; message_delta repeats the total
        // without it and adds the web search count.
        TapFixture("anthropic-stream-cache-1h.sse", .anthropicSSE, model: "claude-haiku-4-5-20251001",
                   TokenUsage(input: 4136, cacheWrite: 4096, cacheWrite1h: 4096, output: 57), tier: .standard, webSearches: 1,
                   characters: 19),
        // Gemini output = candidates 23 + thoughts 198; the last chunk's counts, not a sum.
        TapFixture("gemini-stream.sse", .geminiSSE, model: "gemini-2.5-flash",
                   TokenUsage(input: 9, output: 221, reasoning: 198), characters: 114),
        TapFixture("gemini-stream-array.json", .geminiJSONArray, model: "gemini-2.0-flash",
                   TokenUsage(input: 6, output: 19), characters: 75),
    ]

    static let bodies: [TapFixture] = [
        TapFixture("openai-chat-basic.json", .buffered(.chatCompletions), model: "gpt-4o-mini-2024-07-18",
                   TokenUsage(input: 19, output: 10), tier: .standard, characters: 34),
        TapFixture("openai-chat-cached-reasoning.json", .buffered(.chatCompletions), model: "o4-mini-2025-04-16",
                   TokenUsage(input: 2006, cachedInput: 1920, output: 300, reasoning: 256), tier: .standard, characters: 17),
        TapFixture("openai-responses.json", .buffered(.responses), model: "o3-2025-04-16",
                   TokenUsage(input: 5210, cachedInput: 4864, output: 1035, reasoning: 960), tier: .standard, characters: 80),
        TapFixture("openai-completions.json", .buffered(.completions), model: "gpt-3.5-turbo-instruct:20230824-v2",
                   TokenUsage(input: 5, output: 7), characters: 23),
        TapFixture("openai-embeddings.json", .buffered(.embeddings), model: "text-embedding-3-small",
                   TokenUsage(input: 8), characters: 0),
        TapFixture("anthropic-messages.json", .buffered(.messages), model: "claude-sonnet-4-5-20250929",
                   TokenUsage(input: 14054, cachedInput: 12000, cacheWrite: 2051, cacheWrite1h: 2051, output: 393), tier: .standard, characters: 67),
        // 120 + 500 read + 3000 written (2000 for an hour); two billed searches (fetches are free).
        TapFixture("anthropic-messages-web-search-priority.json", .buffered(.messages), model: "claude-sonnet-4-5-20250929",
                   TokenUsage(input: 3620, cachedInput: 500, cacheWrite: 3000, cacheWrite1h: 2000, output: 800), tier: .priority,
                   webSearches: 2, characters: 45),
        TapFixture("openai-chat-flex.json", .buffered(.chatCompletions), model: "o4-mini-2025-04-16",
                   TokenUsage(input: 1200, cachedInput: 1024, output: 300, reasoning: 256), tier: .flex, characters: 19),
        TapFixture("anthropic-messages-thinking.json", .buffered(.messages), model: "claude-opus-4-1-20250805",
                   TokenUsage(input: 48, output: 1420, reasoning: 1024), tier: .standard, characters: 76),
        TapFixture("gemini-generate-thinking.json", .buffered(.generateContent), model: "gemini-2.5-flash",
                   TokenUsage(input: 11, output: 886, reasoning: 812), characters: 66),
        TapFixture("gemini-generate-cached.json", .buffered(.generateContent), model: "gemini-2.5-pro",
                   TokenUsage(input: 33012, cachedInput: 32768, output: 245), characters: 53),
        TapFixture("openai-error-401.json", .buffered(.chatCompletions), nil, characters: 0, problems: [.noUsage]),
        TapFixture("anthropic-error-overloaded.json", .buffered(.messages), nil, characters: 0, problems: [.noUsage]),
        TapFixture("gemini-error-400.json", .buffered(.generateContent), nil, characters: 0, problems: [.noUsage]),
        TapFixture("openai-chat-negative-usage.json", .buffered(.chatCompletions), nil, characters: 0, problems: [.implausibleUsage]),
    ]

    static let all = streams + bodies
}

/// Feeds `chunks` to a fresh tap of the fixture and finishes it.
func run(_ fixture: TapFixture, chunks: [ArraySlice<UInt8>]) -> TapResult {
    var tap = fixture.makeTap()
    for chunk in chunks { tap.consume(chunk) }
    return tap.finish()
}
