import Foundation
import Testing
@testable import TollgateWire

/// Policy hits and rejections travel in the agent report (fields 19–20), checked like the
/// rest of it; none (or a report from an agent that predates them) reads as nil.
@Suite struct AgentReportPolicyTests {
    static let hits = [PolicyHitCounts(policyID: "autocomplete-haiku", routed: 12, dryRunRefused: 3),
                       PolicyHitCounts(policyID: "no-premium-in-dev", refused: 2)]
    static let rejected = [PolicyRejection(policyID: "route-new", reason: "target model 'gpt-9' is not in the price catalog")]

    static func report(started: Int64? = 1_767_225_000_000, hits: [PolicyHitCounts]? = hits,
                       rejected: [PolicyRejection]? = rejected) -> AgentReportMessage {
        AgentReportMessage(agentID: "a1", name: "ci-runner-7", version: "0.1.0", staleAfterMs: 30_000, reportIntervalMs: 5_000,
                           sentUnixMs: 1_767_225_600_000, wouldBlock: started == nil ? nil : [], startedUnixMs: started, policyHits: hits, rejectedPolicies: rejected)
    }

    @Test func hitsAndRejectionsSurviveTheWireAndTheStoredJSON() throws {
        let report = Self.report()
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(report)) == report)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
        let hits = try #require(json["policy_hits"] as? [[String: Any]])
        #expect(hits.first?["policy_id"] as? String == "autocomplete-haiku" && hits.first?["dry_run_refused"] as? Int == 3)
        #expect((json["rejected_policies"] as? [[String: Any]])?.first?["reason"] as? String == Self.rejected[0].reason)
        #expect(try JSONDecoder().decode(AgentReportMessage.self, from: JSONEncoder().encode(report)) == report)
    }

    @Test func noneAndAnOldAgentsSilenceReadAsNil() throws {
        let none = try AgentReportCodec.decode(AgentReportCodec.encode(Self.report(hits: [], rejected: [])))
        #expect(none.policyHits == nil && none.rejectedPolicies == nil)
        let old = try AgentReportCodec.decode(AgentReportCodec.encode(Self.report(started: nil, hits: nil, rejected: nil)))
        #expect(old.policyHits == nil && old.rejectedPolicies == nil)
        var stored = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.report())) as! [String: Any]
        stored["policy_hits"] = nil
        stored["rejected_policies"] = nil
        let decoded = try JSONDecoder().decode(AgentReportMessage.self, from: JSONSerialization.data(withJSONObject: stored))
        #expect(decoded.policyHits == nil && decoded.rejectedPolicies == nil)
    }

    @Test(arguments: [
        ([PolicyHitCounts(policyID: "p"), PolicyHitCounts(policyID: "p")], [PolicyRejection](), "a policy appears twice"),
        ([PolicyHitCounts(policyID: "")], [], "missing"),
        ([], [PolicyRejection(policyID: "p", reason: "bad\u{1B}[31m")], "control characters"),
        ([], [PolicyRejection(policyID: "p", reason: String(repeating: "x", count: 300))], "longer than"),
    ])
    func badEntriesRefuseTheReportNamingTheField(hits: [PolicyHitCounts], rejected: [PolicyRejection], expected: String) throws {
        let data = try AgentReportCodec.encode(Self.report(hits: hits, rejected: rejected))
        #expect {
            _ = try AgentReportCodec.decode(data)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func tooManyEntriesRefuseTheReport() throws {
        let hits = (0...AgentReportCodec.maxPolicyHits).map { PolicyHitCounts(policyID: "p\($0)", routed: 1) }
        let data = try AgentReportCodec.encode(Self.report(hits: hits))
        #expect(throws: AgentReportError.invalid(field: "policy_hits", reason: "257 entries, at most 256")) { try AgentReportCodec.decode(data) }
    }
}
