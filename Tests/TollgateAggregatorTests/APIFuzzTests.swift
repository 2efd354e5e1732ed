import Foundation
import NIOHTTP1
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// Drives the HTTP API's router with seeded random requests: numbers at and past Int64's
/// edges, wrong types, bad times and names. Each request is built from parts drawn from a
/// valid or an invalid pool, so the test knows what the answer must be: never a 5xx (the
/// process surviving is the first assertion), a 4xx whenever any part was invalid, a 2xx
/// otherwise.
@Suite struct APIFuzzTests {
    /// A part of a request and whether it is acceptable on its own.
    struct Part {
        var text: String
        var valid: Bool
    }

    /// SplitMix64: a fixed seed gives the same requests on every run and machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let now = BudgetStoreTests.now

    /// Numbers no field accepts.
    static let badNumbers = ["-1", "9223372036854775808", "-9223372036854775809", "1e308", "1.5", "\"12\"", "null", "[]", "{}", "true",
                             "99999999999999999999999999"]

    static func pick(_ valid: [String], _ invalid: [String], _ rng: inout SeededGenerator, invalidOdds: Int = 4) -> Part {
        if Int.random(in: 0..<invalidOdds, using: &rng) == 0 { return Part(text: invalid.randomElement(using: &rng)!, valid: false) }
        return Part(text: valid.randomElement(using: &rng)!, valid: true)
    }

    static func usageRequest(_ rng: inout SeededGenerator) -> (uri: String, valid: Bool) {
        let times = ["0", "1h", "24h", "7d", "2026-12-01T00:00:00Z", "\(now - 3_600)"]
        let badTimes = ["-9223372036854775800", "9223372036854775807", "10000-01-01T00:00:00Z", "1x", "", "+", "h", "-1",
                        "99999999999999999999w", "1969-12-31T23:59:59Z", "%00", "%F0%9F%92%A5"]
        let since = pick(times, badTimes, &rng)
        let until = pick(["now", "+1h", "\(now + 60)", "9999-12-31T23:59:59Z"], badTimes, &rng)
        let by = pick(["key", "model", "provider,model", "team,env", "key,model,host"], ["", ",", "nope", "key,,model", "key,key", "KEY", "model%2C"], &rng)
        var items: [String] = []
        var valid = true
        for (name, part) in [("since", since), ("until", until), ("by", by)] where Bool.random(using: &rng) || !part.valid {
            items.append("\(name)=\(part.text)")
            valid = valid && part.valid
        }
        return ("/v1/usage" + (items.isEmpty ? "" : "?" + items.joined(separator: "&")), valid)
    }

    static func budgetBody(_ rng: inout SeededGenerator) -> (body: String, valid: Bool) {
        let fields: [(String, Part)] = [
            ("selector", pick(["\"*\"", "\"team=ml\"", "\"team=ml,env=ci\"", "\"provider=openai\""],
                              ["\"\"", "\"team\"", "\"=ml\"", "\"nope=1\"", "\"team=ml,team=ml\"", "42", "null"], &rng)),
            ("unit", pick(["\"usd\"", "\"tokens\"", "\"requests\""], ["\"eur\"", "\"\"", "5", "null"], &rng)),
            ("limit", pick(["0", "1000", "9223372036854775807"], badNumbers, &rng)),
            ("period", pick(["\"minute\"", "\"hour\"", "\"day\"", "\"week\"", "\"month\""], ["\"year\"", "\"\"", "7"], &rng)),
            ("time_zone", pick(["\"UTC\"", "\"Europe/Paris\"", "\"Pacific/Kiritimati\""], ["\"Mars/Base\"", "\"\"", "0"], &rng)),
            ("thresholds", pick(["[50,75,90]", "[]", "[1,99]"], ["[0]", "[100]", "[90,50]", "[50,50]", "[-1]", "[9223372036854775807]", "\"50\""], &rng)),
            ("action", pick(["\"block\"", "\"alert\""], ["\"drop\"", "1"], &rng)),
            ("hard_ceiling_percent", pick(["150", "10000", "101"], ["100", "10001", "-5", "9223372036854775807"] + badNumbers, &rng)),
        ]
        // Required fields are always present; optional ones may be left out.
        let required: Set = ["selector", "unit", "limit", "period"]
        var members: [String] = []
        var valid = true
        for (name, part) in fields where required.contains(name) || Bool.random(using: &rng) || !part.valid {
            members.append("\"\(name)\":\(part.text)")
            valid = valid && part.valid
        }
        return ("{" + members.joined(separator: ",") + "}", valid)
    }

    static func exemptionBody(_ rng: inout SeededGenerator) -> (body: String, valid: Bool) {
        let limit = pick(["0", "5000", "9223372036854775807"], badNumbers, &rng)
        let until = pick(["\(now + 3_600)", "\(now + 86_400 * 365)", "253402300799"],
                         ["\(now - 3_600)", "253402300800", "9223372036854775807", "-9223372036854775808"] + badNumbers, &rng)
        let from = pick(["\(now)", "\(now - 60)"], ["-1", "-9223372036854775808", "253402300800"], &rng)
        let reason = pick(["\"launch\""], ["\"\"", "\"   \"", "null"], &rng)
        var members = ["\"limit\":\(limit.text)", "\"until\":\(until.text)", "\"reason\":\(reason.text)", "\"author\":\"bob\""]
        var valid = limit.valid && until.valid && reason.valid
        if Bool.random(using: &rng) || !from.valid {
            members.append("\"from\":\(from.text)")
            valid = valid && from.valid
        }
        return ("{" + members.joined(separator: ",") + "}", valid)
    }

    @Test(arguments: 0..<4)
    func randomRequestsGetAnAnswerNeverAServerError(seed: UInt64) throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: Self.now))
            let auth = BudgetAPITests.auth
            // A budget for the exemptions to raise.
            #expect(router.respond(method: .PUT, uri: "/v1/budgets/base", authorization: auth, body: Data(BudgetAPITests.mlDaily.utf8)).status == .created)
            var rng = SeededGenerator(state: seed)
            var counts = (ok: 0, refused: 0)
            for _ in 0..<300 {
                let method: HTTPMethod
                let uri: String
                var body = ""
                let valid: Bool
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    (uri, valid) = Self.usageRequest(&rng)
                    method = .GET
                case 1:
                    (body, valid) = Self.budgetBody(&rng)
                    uri = "/v1/budgets/fuzz-\(Int.random(in: 0..<5, using: &rng))"
                    method = .PUT
                default:
                    (body, valid) = Self.exemptionBody(&rng)
                    uri = "/v1/budgets/base/exemptions"
                    method = .POST
                }
                let response = router.respond(method: method, uri: uri, authorization: auth, body: Data(body.utf8))
                let code = response.status.code
                #expect(code < 500, "\(method) \(uri) \(body) → \(code) \(response.body)")
                if valid {
                    #expect((200..<300).contains(code) || (method == .GET && code == 400 && response.body.contains("before since")),
                            "valid \(method) \(uri) \(body) → \(code) \(response.body)")
                } else {
                    #expect((400..<500).contains(code), "invalid \(method) \(uri) \(body) → \(code) \(response.body)")
                }
                if (200..<300).contains(code) { counts.ok += 1 } else { counts.refused += 1 }
            }
            // Both pools were exercised, and the store still answers.
            #expect(counts.ok > 50 && counts.refused > 50)
            #expect(router.respond(method: .GET, uri: "/v1/budgets", authorization: auth).status == .ok)
        }
    }

    @Test func refusedTokensAreCountedByReason() throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: Self.now))
            for _ in 0..<3 { _ = router.respond(method: .GET, uri: "/v1/budgets") }
            _ = router.respond(method: .GET, uri: "/v1/budgets", authorization: "Bearer nope")
            _ = router.respond(method: .GET, uri: "/v1/budgets", authorization: BudgetAPITests.auth)
            let exposition = router.metrics.exposition()
            #expect(exposition.contains(#"tollgate_api_unauthorized_total{reason="missing"} 3"#))
            #expect(exposition.contains(#"tollgate_api_unauthorized_total{reason="wrong"} 1"#))
        }
    }
}
