import Foundation
import Testing
import TollgateCore
@testable import TollgateProviders

@Suite struct ProviderRequestTests {
    private func classify(_ provider: Provider, _ path: String, query: String? = nil, method: String = "POST", body: String = "{}") -> ProviderRequest? {
        ProviderRequest.classify(provider: provider, method: method, path: path, query: query, body: Data(body.utf8))
    }

    @Test func openAIChatStreamRequest() throws {
        let request = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil,
                                               body: try fixture("openai-chat-stream-request.json"))
        #expect(request == ProviderRequest(provider: .openai, endpoint: .chatCompletions, model: "gpt-4o-mini", isStream: true,
                                           framing: .serverSentEvents, maxOutputTokens: 256, user: "alice@example.com"))
        #expect(request?.needsStreamUsageOption == true)
        #expect(request?.model == "gpt-4o-mini" && request?.isStream == true && request?.user == "alice@example.com")
    }

    @Test func openAIEndpointsByPath() {
        #expect(classify(.openai, "/v1/responses", body: #"{"model":"o3","stream":true,"max_output_tokens":99,"safety_identifier":"h-1"}"#)
            == ProviderRequest(provider: .openai, endpoint: .responses, model: "o3", isStream: true, framing: .serverSentEvents, maxOutputTokens: 99, user: "h-1"))
        #expect(classify(.openai, "/v1/completions", body: #"{"model":"gpt-3.5-turbo-instruct","max_tokens":16}"#)
            == ProviderRequest(provider: .openai, endpoint: .completions, model: "gpt-3.5-turbo-instruct", maxOutputTokens: 16))
        #expect(classify(.openai, "/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":"x","stream":true}"#)
            == ProviderRequest(provider: .openai, endpoint: .embeddings, model: "text-embedding-3-small"))
        #expect(classify(.openai, "/v1/chat/completions", body: #"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}"#)?
            .includesStreamUsage == true)
    }

    @Test func theRequestedServiceTierIsKept() {
        #expect(classify(.openai, "/v1/chat/completions", body: #"{"model":"o3","service_tier":"flex"}"#)?.serviceTier == .flex)
        #expect(classify(.openai, "/v1/responses", body: #"{"model":"gpt-5","service_tier":"priority"}"#)?.serviceTier == .priority)
        #expect(classify(.anthropic, "/v1/messages", body: #"{"model":"claude-sonnet-4-5","service_tier":"auto"}"#)?.serviceTier == .standard)
        #expect(classify(.openai, "/v1/chat/completions", body: #"{"model":"o3","service_tier":"warp"}"#)?.serviceTier == nil)
        #expect(classify(.openai, "/v1/chat/completions", body: #"{"model":"o3"}"#)?.serviceTier == nil)
    }

    @Test func azureDeploymentsNameTheModelUnlessTheBodyDoes() {
        let path = "/openai/deployments/prod-gpt4o/chat/completions"
        #expect(classify(.openai, path, query: "api-version=2024-10-21", body: #"{"messages":[]}"#)
            == ProviderRequest(provider: .openai, endpoint: .chatCompletions, model: "prod-gpt4o", deployment: "prod-gpt4o"))
        #expect(classify(.openai, path + "?api-version=2024-10-21", body: #"{"model":"gpt-4o","messages":[]}"#)?.model == "gpt-4o")
        #expect(classify(.openai, "/openai/deployments/emb/embeddings")?.deployment == "emb")
    }

    @Test func anthropicMessages() throws {
        let request = ProviderRequest.classify(provider: .anthropic, method: "post", path: "/v1/messages", query: nil,
                                               body: try fixture("anthropic-messages-request.json"))
        #expect(request == ProviderRequest(provider: .anthropic, endpoint: .messages, model: "claude-sonnet-4-5", isStream: true,
                                           framing: .serverSentEvents, maxOutputTokens: 1024, user: "user-7f3a"))
        #expect(request?.needsStreamUsageOption == false)
    }

    @Test(arguments: [
        ("/v1beta/models/gemini-2.5-flash:generateContent", nil as String?, ProviderEndpoint.generateContent, false, ResponseFraming.json),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", "alt=sse", .streamGenerateContent, true, .serverSentEvents),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", "key=abc", .streamGenerateContent, true, .jsonArray),
        ("/v1/models/gemini-2.5-flash:streamGenerateContent", "key=abc&alt=sse", .streamGenerateContent, true, .serverSentEvents),
        ("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent", nil, .generateContent, false, .json),
        ("/v1beta/models/gemini-2.5-flash%3AgenerateContent", nil, .generateContent, false, .json),
    ])
    func geminiPaths(path: String, query: String?, endpoint: ProviderEndpoint, stream: Bool, framing: ResponseFraming) throws {
        let request = ProviderRequest.classify(provider: .gemini, method: "POST", path: path, query: query, body: try fixture("gemini-request.json"))
        #expect(request == ProviderRequest(provider: .gemini, endpoint: endpoint, model: "gemini-2.5-flash", isStream: stream,
                                           framing: framing, maxOutputTokens: 2048))
    }

    @Test func openAICompatibleEndpointsOfOtherProviders() {
        let gemini = classify(.gemini, "/v1beta/openai/chat/completions", body: #"{"model":"gemini-2.5-flash","stream":true}"#)
        #expect(gemini?.endpoint == .chatCompletions)
        #expect(gemini?.provider == .gemini)
        // Rewriting a compatible endpoint's body is not known to be safe.
        #expect(gemini?.needsStreamUsageOption == false)
        #expect(classify(.anthropic, "/v1/chat/completions", body: #"{"model":"claude-sonnet-4-5"}"#)?.endpoint == .chatCompletions)
    }

    @Test(arguments: [
        (Provider.openai, "GET", "/v1/models"),
        (.openai, "POST", "/v1/models"),
        (.openai, "GET", "/v1/chat/completions"),
        (.openai, "GET", "/v1/responses/resp_123"),
        (.openai, "POST", "/v1/responses/input_tokens"),
        (.openai, "POST", "/v1/chat/completions/chatcmpl-123"),
        (.openai, "POST", "/v1/files"),
        (.anthropic, "POST", "/v1/messages/count_tokens"),
        (.anthropic, "POST", "/v1/messages/batches"),
        (.anthropic, "GET", "/v1/models"),
        (.gemini, "GET", "/v1/models"),
        (.gemini, "POST", "/v1beta/models/gemini-2.5-flash:countTokens"),
        (.gemini, "POST", "/v1beta/models/gemini-embedding-001:embedContent"),
        (.gemini, "POST", "/v1/messages"),
    ])
    func unmeteredCallsAreNotClassified(provider: Provider, method: String, path: String) {
        #expect(classify(provider, path, method: method) == nil)
    }

    @Test func anUnreadableBodyStillClassifies() {
        #expect(classify(.openai, "/v1/chat/completions", body: "not json")
            == ProviderRequest(provider: .openai, endpoint: .chatCompletions))
        #expect(classify(.openai, "/v1/chat/completions", body: #"{"model":42,"stream":"yes","user":"bob"}"#)
            == ProviderRequest(provider: .openai, endpoint: .chatCompletions, user: "bob"))
    }

    @Test func makeTapFollowsTheResponseContentType() {
        let chatStream = ProviderRequest(provider: .openai, endpoint: .chatCompletions, isStream: true, framing: .serverSentEvents)
        #expect(chatStream.makeTap(contentType: "text/event-stream; charset=utf-8") is OpenAIChatStreamTap)
        #expect(chatStream.makeTap(contentType: nil) is OpenAIChatStreamTap)
        // An error answer to a stream request is plain JSON.
        #expect(chatStream.makeTap(contentType: "application/json") is BufferedJSONTap)
        #expect(ProviderRequest(provider: .openai, endpoint: .completions, isStream: true, framing: .serverSentEvents)
            .makeTap(contentType: "text/event-stream") is OpenAIChatStreamTap)
        #expect(ProviderRequest(provider: .openai, endpoint: .responses, isStream: true, framing: .serverSentEvents)
            .makeTap(contentType: "Text/Event-Stream") is OpenAIResponsesStreamTap)
        #expect(ProviderRequest(provider: .anthropic, endpoint: .messages, isStream: true, framing: .serverSentEvents)
            .makeTap(contentType: "text/event-stream") is AnthropicMessagesStreamTap)
        let geminiArray = ProviderRequest(provider: .gemini, endpoint: .streamGenerateContent, isStream: true, framing: .jsonArray)
        #expect(geminiArray.makeTap(contentType: "application/json; charset=UTF-8") is GeminiJSONArrayTap)
        let geminiSSE = ProviderRequest(provider: .gemini, endpoint: .streamGenerateContent, isStream: true, framing: .serverSentEvents)
        #expect(geminiSSE.makeTap(contentType: "text/event-stream") is GeminiSSETap)
        #expect(geminiSSE.makeTap(contentType: "application/json") is BufferedJSONTap)
        #expect(ProviderRequest(provider: .gemini, endpoint: .generateContent).makeTap(contentType: "application/json") is BufferedJSONTap)
        #expect(ProviderRequest(provider: .openai, endpoint: .embeddings).makeTap(contentType: "text/event-stream") is BufferedJSONTap)
    }

    @Test func theChosenTapReadsTheFixture() throws {
        let request = ProviderRequest(provider: .gemini, endpoint: .streamGenerateContent, isStream: true, framing: .jsonArray)
        var tap = request.makeTap(contentType: "application/json")
        tap.consume(try fixture("gemini-stream-array.json"))
        #expect(tap.finish().usage?.tokens.output == 19)
    }
}
