import Foundation
import Testing
import TollgateCore
@testable import TollgateProviders

/// The public non-streaming extractors, one per format, over the body fixtures.
@Suite struct ExtractorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var fixture: String
        var endpoint: ProviderEndpoint
        var expected: ExtractedUsage
        var testDescription: String { fixture }

        func extract(_ body: Data) throws -> ExtractedUsage {
            switch endpoint {
            case .chatCompletions: try OpenAIChatUsage.extract(from: body)
            case .completions: try OpenAICompletionsUsage.extract(from: body)
            case .embeddings: try OpenAIEmbeddingsUsage.extract(from: body)
            case .responses: try OpenAIResponsesUsage.extract(from: body)
            case .messages: try AnthropicMessagesUsage.extract(from: body)
            case .generateContent, .streamGenerateContent: try GeminiUsage.extract(from: body)
            }
        }
    }

    static let cases: [Case] = TapFixture.bodies.compactMap { body in
        guard case .buffered(let endpoint) = body.kind, let usage = body.expected.usage else { return nil }
        return Case(fixture: body.name, endpoint: endpoint, expected: usage)
    }

    @Test(arguments: cases)
    func extractsTheFixture(_ testCase: Case) throws {
        #expect(try testCase.extract(fixture(testCase.fixture)) == testCase.expected)
    }

    @Test func everyFormatHasABodyFixture() {
        let covered = Set(TapFixture.bodies.compactMap { fixture -> String? in
            guard case .buffered(let endpoint) = fixture.kind else { return nil }
            return endpoint.rawValue
        })
        #expect(covered == ["chat.completions", "completions", "embeddings", "responses", "messages", "generateContent"])
    }

    @Test func errorBodiesHaveNoUsage() throws {
        #expect(throws: UsageExtractionError.noUsage) { try AnthropicMessagesUsage.extract(from: fixture("anthropic-error-overloaded.json")) }
        #expect(throws: UsageExtractionError.noUsage) { try GeminiUsage.extract(from: fixture("gemini-error-400.json")) }
        #expect(throws: UsageExtractionError.noUsage) { try OpenAIResponsesUsage.extract(from: fixture("openai-error-401.json")) }
    }

    @Test func embeddingsNeverReportOutput() throws {
        let body = Data(#"{"model":"text-embedding-3-large","usage":{"prompt_tokens":12,"completion_tokens":99,"total_tokens":12}}"#.utf8)
        #expect(try OpenAIEmbeddingsUsage.extract(from: body).tokens == TokenUsage(input: 12))
    }

    @Test func anthropicImplausibleCacheCountsAreRejected() {
        let body = Data(#"{"model":"claude-x","usage":{"input_tokens":1,"cache_read_input_tokens":-4,"output_tokens":2}}"#.utf8)
        #expect(throws: UsageExtractionError.implausible(field: "cache_read_input_tokens", value: -4)) {
            try AnthropicMessagesUsage.extract(from: body)
        }
    }

    @Test func anthropicSumsAreCheckedToo() {
        let body = Data(#"{"usage":{"input_tokens":600000000,"cache_read_input_tokens":600000000,"output_tokens":2}}"#.utf8)
        #expect(throws: UsageExtractionError.self) { try AnthropicMessagesUsage.extract(from: body) }
    }

    @Test func geminiOmittedZeroFieldsReadAsZero() throws {
        let body = Data(#"{"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash"}"#.utf8)
        #expect(try GeminiUsage.extract(from: body) == ExtractedUsage(model: "gemini-2.5-flash", tokens: TokenUsage(input: 7)))
    }

    @Test func newerOpenAICacheWriteCountsAreKept() throws {
        let body = Data(#"{"model":"gpt-5.1","usage":{"input_tokens":900,"input_tokens_details":{"cached_tokens":100,"cache_write_tokens":700},"output_tokens":5}}"#.utf8)
        #expect(try OpenAIResponsesUsage.extract(from: body).tokens == TokenUsage(input: 900, cachedInput: 100, cacheWrite: 700, output: 5))
    }

    @Test func anUnexpectedContentShapeDoesNotCostTheUsage() throws {
        let body = Data(#"{"model":"gpt-4o","choices":[{"message":{"content":[{"type":"text","text":"hi"}]}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#.utf8)
        #expect(try OpenAIChatUsage.extract(from: body).tokens == TokenUsage(input: 3, output: 1))
    }

    @Test(arguments: ["", "{", "[1,2]", "null", "{\"usage\": \"lots\"}", "{\"usageMetadata\": []}"])
    func malformedBodiesFailCleanlyInEveryFormat(body: String) {
        for endpoint in ProviderEndpoint.allCases {
            if case .success = endpoint.readBody(Data(body.utf8)).usage {
                Issue.record("\(endpoint) read usage from \(body)")
            }
        }
    }
}
