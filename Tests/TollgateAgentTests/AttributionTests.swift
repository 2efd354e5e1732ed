import TollgateHTTP1
@testable import TollgateAgent
import Testing
import TollgateCore

@Suite struct AttributionTests {

    func defaults() throws -> Attribution {
        try Attribution(ConfigNode(yaml: "attribution:\n  team: platform\n  environment: ci\n  host: runner-7\n", source: "t").section("attribution"))
    }

    @Test func headersBeatProviderMetadataWhichBeatsHostDefaults() throws {
        var rejected = 0
        let headers = try HTTPRequestHeadBytes.post(["X-Tollgate-Team": "search", "X-Tollgate-Use-Case": "eval", "X-Tollgate-Project": "ranker"])
        let resolved = try defaults().resolved(headers: headers, providerUser: "alice@example.com", rejected: &rejected)
        #expect(resolved.team == "search" && resolved.useCase == "eval" && resolved.project == "ranker")
        #expect(resolved.environment == "ci" && resolved.host == "runner-7")
        #expect(resolved.user == "alice@example.com")
        let overridden = try defaults().resolved(headers: .post(["X-Tollgate-User": "bob"]), providerUser: "alice", rejected: &rejected)
        #expect(overridden.user == "bob")
        #expect(rejected == 0)
    }

    @Test func unusableValuesAreIgnoredAndCounted() throws {
        var rejected = 0
        // The framer refuses ASCII control bytes in a request outright; a C1 control passes
        // it (as UTF-8 obs-text) and must not become a label.
        let headers = try HTTPRequestHeadBytes.post(["X-Tollgate-Team": String(repeating: "x", count: 200), "X-Tollgate-Env": "prod\u{85}"])
        let resolved = try defaults().resolved(headers: headers, providerUser: nil, rejected: &rejected)
        #expect(resolved.team == "platform" && resolved.environment == "ci")
        #expect(rejected == 2)
    }

    @Test func theHostDefaultsToThisMachine() throws {
        #expect(try Attribution(nil).host.isEmpty == false)
        #expect { try Attribution(ConfigNode(yaml: "a:\n  tem: x\n", source: "t").section("a")) } throws: { "\($0)".contains("'a.tem'") }
    }
}
