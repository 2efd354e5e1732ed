import Foundation
import Testing
import TollgateCore
@testable import TollgateProviders

@Suite struct UsageTapTests {
    @Test(arguments: TapFixture.all)
    func readsEachFixture(fixture: TapFixture) throws {
        let bytes = try fixture.bytes()
        #expect(run(fixture, chunks: [bytes[...]]) == fixture.expected)
    }

    /// The proxy hands the tap whatever the network delivered: every split of a stream into
    /// two chunks, and one byte at a time, must read exactly like the whole.
    @Test(arguments: TapFixture.streams)
    func chunkBoundariesDoNotMatter(fixture: TapFixture) throws {
        let bytes = try fixture.bytes()
        for split in 0...bytes.count {
            let result = run(fixture, chunks: [bytes[..<split], bytes[split...]])
            if result != fixture.expected {
                Issue.record("split at byte \(split) of \(fixture.name): \(result)")
                return
            }
        }
        let single = run(fixture, chunks: bytes.indices.map { bytes[$0...$0] })
        #expect(single == fixture.expected)
    }

    @Test func finishingTwiceGivesTheSameResult() throws {
        let fixture = TapFixture.streams[0]
        var tap = fixture.makeTap()
        tap.consume(try fixture.bytes())
        #expect(tap.finish() == fixture.expected)
        #expect(tap.finish() == fixture.expected)
    }

    @Test func anEmptyResponseFinishesCleanly() {
        for fixture in TapFixture.all {
            let result = run(fixture, chunks: [])
            #expect(result.usage == nil, "\(fixture.name)")
        }
    }

    @Test func aStreamCutBeforeItsUsageIsTruncatedAndEstimable() throws {
        let fixture = TapFixture.streams[0]
        let events = String(decoding: try fixture.bytes(), as: UTF8.self).components(separatedBy: "\n\n")
        // Drop the usage chunk and [DONE], as a client that hangs up at the finish_reason would.
        let cut = events.dropLast(3).joined(separator: "\n\n") + "\n\n"
        let result = run(fixture, chunks: [Array(cut.utf8)[...]])
        #expect(result.usage == nil)
        #expect(result.outputCharacters == 34)
        #expect(result.estimatedOutputTokens == 9)
        #expect(result.problems == [TapProblem.truncatedStream.rawValue])
    }

    @Test func anthropicStreamWithoutMessageDeltaKeepsStartCountsAndSaysSo() throws {
        let stream = """
        event: message_start
        data: {"type":"message_start","message":{"model":"claude-haiku-4-5-20251001","usage":{"input_tokens":25,"cache_read_input_tokens":100,"output_tokens":1}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}


        """
        var tap = AnthropicMessagesStreamTap()
        tap.consume(Array(stream.utf8))
        let result = tap.finish()
        #expect(result.usage == ExtractedUsage(model: "claude-haiku-4-5-20251001", tokens: TokenUsage(input: 125, cachedInput: 100, output: 1)))
        #expect(result.problems == [TapProblem.truncatedStream.rawValue])
    }

    @Test func streamErrorsAreLabelled() {
        var anthropic = AnthropicMessagesStreamTap()
        anthropic.consume(Array("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".utf8))
        #expect(anthropic.finish().problems.contains(TapProblem.providerError.rawValue))

        var openAI = OpenAIChatStreamTap()
        openAI.consume(Array("data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n".utf8))
        #expect(openAI.finish().problems.contains(TapProblem.providerError.rawValue))
    }

    @Test func implausibleStreamUsageIsALabelNotACount() {
        var tap = OpenAIChatStreamTap()
        tap.consume(Array("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n".utf8))
        #expect(tap.finish() == TapResult(usage: nil, outputCharacters: 0, problems: ["implausible_usage"]))
    }

    @Test func openAICompatibleStreamsThatRepeatUsageKeepTheLast() {
        var tap = OpenAIChatStreamTap()
        tap.consume(Array("""
        data: {"model":"m","choices":[{"delta":{"content":"ab"}}],"usage":{"prompt_tokens":5,"completion_tokens":1}}

        data: {"model":"m","choices":[{"delta":{"content":"cd"}}],"usage":{"prompt_tokens":5,"completion_tokens":2}}

        data: [DONE]

        data: {"model":"m","choices":[],"usage":{"prompt_tokens":500,"completion_tokens":500}}


        """.utf8))
        #expect(tap.finish() == TapResult(usage: ExtractedUsage(model: "m", tokens: TokenUsage(input: 5, output: 2)), outputCharacters: 4))
    }

    @Test func vertexCountlessUsageMetadataDoesNotEraseCounts() {
        var tap = GeminiSSETap()
        tap.consume(Array("""
        data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1}}\r
        \r
        data: {"usageMetadata":{"trafficType":"ON_DEMAND"},"modelVersion":"gemini-2.5-flash-lite"}\r
        \r

        """.utf8))
        #expect(tap.finish() == TapResult(usage: ExtractedUsage(model: "gemini-2.5-flash-lite", tokens: TokenUsage(input: 4, output: 1)), outputCharacters: 2))
    }

    /// A final event without its usage object is damage, not a stream that reported less:
    /// otherwise a placeholder or running count would pass for the total.
    @Test func finalEventsWithoutUsageAreMalformed() {
        var gemini = GeminiSSETap()
        gemini.consume(Array("""
        data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1}}

        data: {"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}]}


        """.utf8))
        #expect(gemini.finish().problems == [TapProblem.malformedEvent.rawValue])

        var anthropic = AnthropicMessagesStreamTap()
        anthropic.consume(Array("""
        data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}

        data: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}


        """.utf8))
        #expect(anthropic.finish().problems == [TapProblem.malformedEvent.rawValue])

        var responses = OpenAIResponsesStreamTap()
        responses.consume(Array("""
        event: response.completed
        data: {"type":"response.completed","response":{"model":"o3","usage":null}}


        """.utf8))
        #expect(responses.finish() == TapResult(usage: nil, outputCharacters: 0, problems: [TapProblem.malformedEvent.rawValue]))
    }

    @Test func aResponsesFailureKeepsItsUsageAndIsLabelled() {
        var tap = OpenAIResponsesStreamTap()
        tap.consume(Array("""
        event: response.output_text.delta
        data: {"type":"response.output_text.delta","delta":"Par","sequence_number":4}

        event: response.failed
        data: {"type":"response.failed","sequence_number":5,"response":{"model":"gpt-4.1-2025-04-14","status":"failed","error":{"code":"server_error","message":"x"},"usage":{"input_tokens":40,"output_tokens":3}}}


        """.utf8))
        #expect(tap.finish() == TapResult(usage: ExtractedUsage(model: "gpt-4.1-2025-04-14", tokens: TokenUsage(input: 40, output: 3)),
                                          outputCharacters: 3, problems: [TapProblem.providerError.rawValue]))
    }

    @Test func aBufferedBodyOverTheBoundIsNotKept() throws {
        var tap = BufferedJSONTap(endpoint: .chatCompletions, maxBodyBytes: 100)
        let body = try fixture("openai-chat-basic.json")
        tap.consume(body.prefix(60))
        tap.consume(body.dropFirst(60))
        #expect(tap.finish() == TapResult(usage: nil, outputCharacters: 0, problems: ["response_too_large"]))
    }

    @Test func estimatesRoundUpAtFourCharactersPerToken() {
        #expect(estimatedTokens(characters: 0) == 0)
        #expect(estimatedTokens(characters: 1) == 1)
        #expect(estimatedTokens(characters: 4) == 1)
        #expect(estimatedTokens(characters: 5) == 2)
        #expect(estimatedTokens(characters: -7) == 0)
        #expect(estimatedTokens(characters: .max) == Int64(Int.max / 4 + 1))
    }
}

@Suite struct BufferedJSONTapTests {
    /// A non-streamed answer cut short: every byte received counts as generated text, so the
    /// estimate is not zero; an embeddings body is vectors, not generated text.
    @Test func aBodyCutShortCountsWhatArrivedAsText() throws {
        let body = try fixture("openai-chat-basic.json")
        var tap = BufferedJSONTap(endpoint: .chatCompletions)
        tap.consume(body.prefix(120))
        #expect(tap.finish() == TapResult(usage: nil, outputCharacters: 120, problems: [TapProblem.malformedJSON.rawValue]))
        var embeddings = BufferedJSONTap(endpoint: .embeddings)
        embeddings.consume(try fixture("openai-embeddings.json").prefix(120))
        #expect(embeddings.finish().outputCharacters == 0)
    }

    @Test func invalidUTF8InTextCostsALabelNotTheUsage() throws {
        var body = [UInt8](try fixture("openai-chat-basic.json"))
        let hello = try #require(body.firstRange(of: Array("Hello".utf8)))
        body[hello.lowerBound] = 0xFF
        var tap = BufferedJSONTap(endpoint: .chatCompletions)
        tap.consume(body)
        let result = tap.finish()
        #expect(result.usage?.tokens == TokenUsage(input: 19, output: 10))
        #expect(result.problems == [TapProblem.invalidUTF8.rawValue])
    }
}
