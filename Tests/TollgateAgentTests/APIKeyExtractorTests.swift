import NIOHTTP1
@testable import TollgateAgent
import Testing

@Suite struct APIKeyExtractorTests {
    @Test func findsEachProvidersKeyWhereItsSDKPutsIt() {
        #expect(APIKeyExtractor.apiKey(in: ["Authorization": "Bearer sk-openai"], provider: .openai, query: nil) == "sk-openai")
        #expect(APIKeyExtractor.apiKey(in: ["api-key": "azure-key"], provider: .openai, query: nil) == "azure-key")
        #expect(APIKeyExtractor.apiKey(in: ["x-api-key": "sk-ant-1"], provider: .anthropic, query: nil) == "sk-ant-1")
        #expect(APIKeyExtractor.apiKey(in: ["authorization": "bearer sk-ant-2"], provider: .anthropic, query: nil) == "sk-ant-2")
        #expect(APIKeyExtractor.apiKey(in: ["x-goog-api-key": "AIza-h"], provider: .gemini, query: nil) == "AIza-h")
        #expect(APIKeyExtractor.apiKey(in: [:], provider: .gemini, query: "alt=sse&key=AIza-q") == "AIza-q")
    }

    @Test func ignoresWhatIsNotAKey() {
        #expect(APIKeyExtractor.apiKey(in: ["Authorization": "Basic dXNlcjpwdw=="], provider: .openai, query: nil) == nil)
        #expect(APIKeyExtractor.apiKey(in: ["Authorization": "Bearer   "], provider: .openai, query: nil) == nil)
        #expect(APIKeyExtractor.apiKey(in: [:], provider: .openai, query: "key=not-for-openai") == nil)
    }
}
