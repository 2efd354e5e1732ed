import Foundation
import Testing
@testable import TollgateProviders

@Suite struct OpenAIStreamOptionsTests {
    private func rewrite(_ body: String) -> String? {
        OpenAIStreamOptions.requestingUsage(in: Data(body.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func insertsTheOptionWithoutTouchingAnyOtherByte() throws {
        let body = try fixture("openai-chat-stream-request.json")
        let rewritten = try #require(OpenAIStreamOptions.requestingUsage(in: body))
        let expected = #"{"stream_options":{"include_usage":true},"# + String(decoding: body.dropFirst(), as: UTF8.self)
        #expect(String(decoding: rewritten, as: UTF8.self) == expected)
        #expect(String(decoding: rewritten, as: UTF8.self).contains(#""temperature":0.7,"top_p":0.95,"frequency_penalty":1e-7"#))
        let request = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: rewritten)
        #expect(request?.includesStreamUsage == true)
        #expect(request?.needsStreamUsageOption == false)
    }

    @Test func leadingWhitespaceIsKept() {
        #expect(rewrite(" \n{\"stream\": true}") == " \n{\"stream_options\":{\"include_usage\":true},\"stream\": true}")
    }

    @Test(arguments: [
        #"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}"#,
        #"{"model":"gpt-4o","stream":false}"#,
        #"{"model":"gpt-4o"}"#,
        #"[{"stream":true}]"#,
        #""stream""#,
        "not json",
        "",
    ])
    func leavesBodiesThatNeedNothingAlone(body: String) {
        #expect(rewrite(body) == nil)
    }

    @Test(arguments: [
        #"{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":false}}"#,
        #"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false}}"#,
        #"{"model":"gpt-4o","stream":true,"stream_options":null}"#,
    ])
    func existingStreamOptionsAreMergedThroughJSONSerialization(body: String) throws {
        let rewritten = try #require(OpenAIStreamOptions.requestingUsage(in: Data(body.utf8)))
        let object = try #require(try JSONSerialization.jsonObject(with: rewritten) as? [String: Any])
        let options = try #require(object["stream_options"] as? [String: Any])
        #expect(options["include_usage"] as? Bool == true)
        #expect(object["model"] as? String == "gpt-4o")
        #expect(object["stream"] as? Bool == true)
        if body.contains("include_obfuscation") { #expect(options["include_obfuscation"] as? Bool == false) }
        #expect(OpenAIStreamOptions.requestingUsage(in: rewritten) == nil)
        // The rewritten body must keep JSON booleans booleans for the provider.
        #expect(String(decoding: rewritten, as: UTF8.self).contains("true"))
    }
}
