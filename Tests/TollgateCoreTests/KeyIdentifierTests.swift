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

    @Test func hintShowsOnlyPrefixAndLastFour() {
        #expect(KeyIdentifier.hint(for: "sk-proj-abcdefghijklmnopqrstuvwxyz0123") == "sk-…0123")
        #expect(KeyIdentifier.hint(for: "AIzaSyExampleExample9876") == "AI…9876")
        #expect(KeyIdentifier.hint(for: "short") == "…hort")
    }
}
