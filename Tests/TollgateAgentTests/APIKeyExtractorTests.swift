@testable import TollgateAgent
import Testing

@Suite struct APIKeyExtractorTests {
    @Test func findsEachProvidersKeyWhereItsSDKPutsIt() throws {
        #expect(try APIKeyExtractor.apiKey(in: .post(["Authorization": "Bearer sk-openai"]), provider: .openai, query: nil) == "sk-openai")
        #expect(try APIKeyExtractor.apiKey(in: .post(["api-key": "azure-key"]), provider: .openai, query: nil) == "azure-key")
        #expect(try APIKeyExtractor.apiKey(in: .post(["x-api-key": "sk-ant-1"]), provider: .anthropic, query: nil) == "sk-ant-1")
        #expect(try APIKeyExtractor.apiKey(in: .post(["authorization": "bearer sk-ant-2"]), provider: .anthropic, query: nil) == "sk-ant-2")
        #expect(try APIKeyExtractor.apiKey(in: .post(["x-goog-api-key": "AIza-h"]), provider: .gemini, query: nil) == "AIza-h")
        #expect(try APIKeyExtractor.apiKey(in: .post([:]), provider: .gemini, query: "alt=sse&key=AIza-q") == "AIza-q")
    }

    @Test func ignoresWhatIsNotAKey() throws {
        #expect(try APIKeyExtractor.apiKey(in: .post(["Authorization": "Basic dXNlcjpwdw=="]), provider: .openai, query: nil) == nil)
        #expect(try APIKeyExtractor.apiKey(in: .post(["Authorization": "Bearer   "]), provider: .openai, query: nil) == nil)
        #expect(try APIKeyExtractor.apiKey(in: .post([:]), provider: .openai, query: "key=not-for-openai") == nil)
    }
}
