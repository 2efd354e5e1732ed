import Foundation
import Testing
@testable import TollgateProviders

/// A routed request reaches the provider as the client wrote it, with only the model changed.
@Suite struct RequestModelRewriteTests {
    private func rewrite(_ body: String, to model: String = "claude-haiku-4-5") -> String? {
        RequestModelRewrite.body(Data(body.utf8), to: model).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func onlyTheModelsBytesChange() {
        let body = #"{"model":"claude-opus-4-5","max_tokens":1024,"temperature":0.70,"messages":[{"role":"user","content":"hi \u00e9\n"}]}"#
        #expect(rewrite(body) == body.replacingOccurrences(of: #""claude-opus-4-5""#, with: #""claude-haiku-4-5""#))
    }

    @Test func whitespaceAndAModelThatIsNotFirstAreKept() {
        let body = "{\n  \"messages\" : [],\n  \"model\"\t:  \"gpt-4.1\" ,\n  \"stream\": true\n}\n"
        #expect(rewrite(body, to: "gpt-4.1-mini") == "{\n  \"messages\" : [],\n  \"model\"\t:  \"gpt-4.1-mini\" ,\n  \"stream\": true\n}\n")
    }

    @Test func anEscapedModelIsReplacedWhole() {
        #expect(rewrite(#"{"model":"claude-\u006fpus-4-5\"x\"","n":1}"#) == #"{"model":"claude-haiku-4-5","n":1}"#)
        // A key written with escapes is still the model key.
        #expect(rewrite(#"{"mod\u0065l":"gpt-4.1"}"#, to: "gpt-4.1-mini") == #"{"mod\u0065l":"gpt-4.1-mini"}"#)
    }

    @Test func theTargetIsWrittenAsAJSONString() throws {
        let rewritten = try #require(rewrite(#"{"model":"a"}"#, to: "we\"ird\\name\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(rewritten.utf8)) as? [String: Any])
        #expect(object["model"] as? String == "we\"ird\\name\n")
    }

    @Test func nestedModelKeysAreLeftAlone() {
        let body = #"{"tools":[{"model":"gpt-4.1"}],"metadata":{"model":"gpt-4.1"},"model":"gpt-4.1","extra":{"model":"x"}}"#
        #expect(rewrite(body, to: "gpt-4.1-mini") == #"{"tools":[{"model":"gpt-4.1"}],"metadata":{"model":"gpt-4.1"},"model":"gpt-4.1-mini","extra":{"model":"x"}}"#)
    }

    /// Parsers disagree on which duplicate wins; the provider must see the target either way.
    @Test func everyTopLevelModelIsReplaced() {
        #expect(rewrite(#"{"model":"a","x":1,"model":"b"}"#, to: "c") == #"{"model":"c","x":1,"model":"c"}"#)
    }

    @Test(arguments: [
        #"{"messages":[]}"#,
        #"{"model":null}"#,
        #"{"model":42}"#,
        #"[{"model":"gpt-4.1"}]"#,
        "not json",
        "",
        #"{"model":"gpt-4.1""#,
    ])
    func aBodyWithoutATopLevelModelStringIsNotRewritten(body: String) {
        #expect(rewrite(body) == nil)
    }

    @Test func theRewrittenBodyClassifiesAsTheTarget() throws {
        let body = Data(#"{"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true},"max_tokens":7}"#.utf8)
        let rewritten = try #require(RequestModelRewrite.body(body, to: "gpt-4.1-mini"))
        let request = ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: rewritten)
        #expect(request?.model == "gpt-4.1-mini")
        #expect(request?.isStream == true && request?.includesStreamUsage == true && request?.maxOutputTokens == 7)
    }

    @Test(arguments: [
        ("/v1beta/models/gemini-2.5-pro:generateContent", "/v1beta/models/gemini-2.5-flash:generateContent"),
        ("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=k:1/2",
         "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=k:1/2"),
        ("/base/v1/projects/p/locations/us/publishers/google/models/gemini-2.5-pro:generateContent",
         "/base/v1/projects/p/locations/us/publishers/google/models/gemini-2.5-flash:generateContent"),
        ("/v1beta/models/gemini%2D2.5-pro:generateContent", "/v1beta/models/gemini-2.5-flash:generateContent"),
    ])
    func geminisModelIsReplacedInThePath(target: String, expected: String) {
        #expect(RequestModelRewrite.geminiTarget(target, to: "gemini-2.5-flash") == expected)
    }

    @Test(arguments: ["/v1beta/openai/chat/completions", "/v1beta/models/:generateContent", "generateContent", "/v1beta/models/x?a=b:c"])
    func aPathWithoutAModelIsNotRewritten(target: String) {
        #expect(RequestModelRewrite.geminiTarget(target, to: "gemini-2.5-flash") == nil)
    }
}
