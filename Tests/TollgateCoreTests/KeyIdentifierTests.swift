import Testing
@testable import TollgateCore

@Suite struct KeyIdentifierTests {
    @Test func keyIDIsStableKeyedAndNeverTheKey() {
        let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"
        let identifier = KeyIdentifier(orgSecret: Array("secret-one-0123456789".utf8))
        let id = identifier.keyID(for: key)
        #expect(id.count == 32)
        #expect(id == identifier.keyID(for: key))
        #expect(!id.contains("abcdef"))
        #expect(id != KeyIdentifier(orgSecret: Array("secret-two-0123456789".utf8)).keyID(for: key))
        #expect(id != identifier.keyID(for: key + "x"))
    }

    @Test func hintNamesTheProviderTheFamilyAndTheLastFour() {
        #expect(KeyIdentifier.hint(for: "sk-proj-abcdefghijklmnopqrstuvwxyz0123", provider: "openai") == "openai:sk-proj-…0123")
        #expect(KeyIdentifier.hint(for: "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0001", provider: "anthropic") == "anthropic:sk-ant-…0001")
        #expect(KeyIdentifier.hint(for: "sk-abcdefghijklmnopqrstuvwxyz0123", provider: "openai") == "openai:sk-…0123")
        #expect(KeyIdentifier.hint(for: "AIzaSyExampleExample9876", provider: "gemini") == "gemini:AIza…9876")
        #expect(KeyIdentifier.hint(for: "short", provider: "openai") == "openai:…hort")
        // A long lowercase run after sk- is the key itself, not a family: not shown.
        #expect(KeyIdentifier.hint(for: "sk-abcdefghijklmnop-qrstuvwxyz0123", provider: "openai") == "openai:sk-…0123")
    }

    /// The demo's traffic sends one key string to every provider: its hints must differ.
    @Test func oneStringAtTwoProvidersGetsTwoHints() {
        let key = "sk-tollgate-demo-0000000000000000000001"
        #expect(KeyIdentifier.hint(for: key, provider: "openai") != KeyIdentifier.hint(for: key, provider: "anthropic"))
    }
}
