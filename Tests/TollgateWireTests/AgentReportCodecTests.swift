import Foundation
import SwiftProtobuf
import Testing
@testable import TollgateWire

@Suite struct AgentReportCodecTests {
    static let report = AgentReportMessage(
        agentID: "0b7c2f0e-agent", name: "ci-runner-7", version: "0.1.0", ackedSeq: 41, spoolBatches: 3, spoolBytes: 12_345,
        spoolOverBound: false, quotaVersion: 812, quotaAgeMs: 1_250, enforcement: .observe, staleAfterMs: 30_000,
        reportIntervalMs: 5_000, sentUnixMs: 1_767_225_600_000)

    @Test func aReportSurvivesTheWireFieldForField() throws {
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(Self.report)) == Self.report)
        var never = Self.report
        never.quotaAgeMs = nil  // "never received one" is absent, not 0
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(never)).quotaAgeMs == nil)
        var fresh = Self.report
        fresh.quotaAgeMs = 0
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(fresh)).quotaAgeMs == 0)
    }

    /// A spool that cannot be written is said on the wire, and a report stored before the
    /// field existed (the aggregator keeps the latest as JSON) reads as writable.
    @Test func anUnwritableSpoolSurvivesTheWireAndOldStoredReportsReadAsWritable() throws {
        var full = Self.report
        full.spoolUnwritable = true
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(full)).spoolUnwritable)
        #expect(try !AgentReportCodec.decode(AgentReportCodec.encode(Self.report)).spoolUnwritable)
        var stored = try JSONSerialization.jsonObject(with: JSONEncoder().encode(full)) as! [String: Any]
        #expect(stored["spool_unwritable"] as? Bool == true)
        stored["spool_unwritable"] = nil
        let old = try JSONDecoder().decode(AgentReportMessage.self, from: JSONSerialization.data(withJSONObject: stored))
        #expect(!old.spoolUnwritable && old.agentID == full.agentID && old.quotaAgeMs == full.quotaAgeMs)
    }

    /// Would-block counts and the process they count from travel with the report; a report
    /// from an agent that predates them says nothing (nil), not "none" or "started in 1970".
    @Test func wouldBlockCountsSurviveTheWireAndOldAgentsSayNothing() throws {
        var counting = Self.report
        counting.startedUnixMs = 1_767_225_000_000
        counting.wouldBlock = [BudgetWouldBlock(budgetID: "trial", windowStart: 1_767_225_600, requests: 37)]
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(counting)) == counting)
        counting.wouldBlock = []
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(counting)).wouldBlock == [])
        let old = try AgentReportCodec.decode(AgentReportCodec.encode(Self.report))
        #expect(old.wouldBlock == nil && old.startedUnixMs == nil)
        // The most a report carries still fits the limit, with the longest ids.
        counting.wouldBlock = (0..<AgentReportCodec.maxWouldBlock).map {
            BudgetWouldBlock(budgetID: String(repeating: "b", count: 120) + "\($0)", windowStart: 1_767_225_600, requests: .max)
        }
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(counting)).wouldBlock?.count == AgentReportCodec.maxWouldBlock)
    }

    /// Policy counts and rejections travel with the report and are kept in the stored JSON;
    /// an agent that predates policies says nothing (nil). The most a report may carry fits.
    @Test func policyHitsAndRejectionsSurviveTheWire() throws {
        var full = Self.report
        full.startedUnixMs = 1_767_225_000_000
        full.wouldBlock = []
        full.policyHits = [PolicyHitCounts(policyID: "autocomplete-economy", routed: 12, refused: 0, dryRunRouted: 3, dryRunRefused: 1)]
        full.rejectedPolicies = [PolicyRejection(policyID: "dev-no-premium", reason: "unknown tier 'gold'")]
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(full)) == full)
        let stored = try JSONDecoder().decode(AgentReportMessage.self, from: JSONEncoder().encode(full))
        #expect(stored == full)
        let old = try AgentReportCodec.decode(AgentReportCodec.encode(Self.report))
        #expect(old.policyHits == nil && old.rejectedPolicies == nil)
        full.wouldBlock = (0..<AgentReportCodec.maxWouldBlock).map {
            BudgetWouldBlock(budgetID: String(repeating: "b", count: 120) + "\($0)", windowStart: 1_767_225_600, requests: .max)
        }
        full.policyHits = (0..<AgentReportCodec.maxPolicyHits).map {
            PolicyHitCounts(policyID: String(repeating: "p", count: 120) + "\($0)", routed: .max, refused: .max, dryRunRouted: .max, dryRunRefused: .max)
        }
        full.rejectedPolicies = (0..<AgentReportCodec.maxRejectedPolicies).map {
            PolicyRejection(policyID: String(repeating: "r", count: 120) + "\($0)", reason: String(repeating: "x", count: AgentReportCodec.maxRejectionReasonLength))
        }
        #expect(try AgentReportCodec.decode(AgentReportCodec.encode(full)) == full)
    }

    /// What decoding `frame` refused, or nil if it was accepted.
    static func refusal(_ frame: Data) -> AgentReportError? {
        do {
            _ = try AgentReportCodec.decode(frame)
            return nil
        } catch {
            return error
        }
    }

    /// Each malformed report is refused with the reason its metric counts, never read half-way.
    @Test(arguments: [
        ("garbage bytes", Data([0xFF, 0xFF, 0xFF]), "unreadable"),
        ("a batch header sent as a report", try! Tollgate_V1_BatchHeader.with { $0.agentID = "a"; $0.codec = .lz4 }.serializedData(), "invalid"),
        ("empty", Data(), "invalid"),
        ("oversized", Data(repeating: 0, count: AgentReportCodec.maxBytes + 1), "oversized"),
    ])
    func malformedFramesAreRefusedWithAReason(_ name: String, _ frame: Data, _ reason: String) {
        #expect(Self.refusal(frame)?.reason == reason, "\(name)")
    }

    /// The report with one field spoiled, as an agent (or anyone) could send it.
    static func spoiled(_ spoil: (inout Tollgate_V1_AgentReport) -> Void) -> Data {
        var message = try! Tollgate_V1_AgentReport(serializedBytes: AgentReportCodec.encode(report))
        spoil(&message)
        return try! message.serializedData()
    }

    @Test(arguments: [
        ("agent_id", spoiled { $0.agentID = "" }),
        ("agent_id", spoiled { $0.agentID = String(repeating: "a", count: 129) }),
        ("name", spoiled { $0.name = "" }),
        ("name", spoiled { $0.name = "evil\u{1B}[2Jname" }),
        ("version", spoiled { $0.version = "" }),
        ("enforcement", spoiled { $0.enforcement = "maybe" }),
        ("report_interval_ms", spoiled { $0.reportIntervalMs = 0 }),
        ("stale_after_ms", spoiled { $0.staleAfterMs = 0 }),
        ("quota_age_ms", spoiled { $0.quotaAgeMs = -5 }),
        ("spool_bytes", spoiled { $0.spoolBytes = .max }),
        ("would_block.budget_id", spoiled { $0.wouldBlock = [.with { $0.requests = 3 }] }),
        ("would_block.requests", spoiled { $0.wouldBlock = [.with { $0.budgetID = "trial"; $0.requests = .max }] }),
        ("would_block", spoiled { $0.wouldBlock = [.with { $0.budgetID = "trial" }, .with { $0.budgetID = "trial" }] }),
        ("would_block", spoiled { $0.wouldBlock = Array(repeating: .with { $0.budgetID = "b" }, count: AgentReportCodec.maxWouldBlock + 1) }),
        ("started_unix_ms", spoiled { $0.startedUnixMs = -1 }),
        ("policy_hits.policy_id", spoiled { $0.policyHits = [.with { $0.routed = 1 }] }),
        ("policy_hits.policy_id", spoiled { $0.policyHits = [.with { $0.policyID = "a\nb" }] }),
        ("policy_hits", spoiled { $0.policyHits = [.with { $0.policyID = "p"; $0.refused = .max }] }),
        ("policy_hits", spoiled { $0.policyHits = [.with { $0.policyID = "p" }, .with { $0.policyID = "p" }] }),
        ("policy_hits", spoiled { $0.policyHits = (0...AgentReportCodec.maxPolicyHits).map { index in .with { $0.policyID = "p\(index)" } } }),
        ("rejected_policies.policy_id", spoiled { $0.rejectedPolicies = [.with { $0.reason = "why" }] }),
        ("rejected_policies.reason", spoiled { $0.rejectedPolicies = [.with { $0.policyID = "p"; $0.reason = String(repeating: "x", count: 513) }] }),
        ("rejected_policies", spoiled { $0.rejectedPolicies = Array(repeating: .with { $0.policyID = "p" }, count: AgentReportCodec.maxRejectedPolicies + 1) }),
    ])
    func aFieldAnOperatorWouldReadWrongIsRefusedByName(_ field: String, _ frame: Data) {
        guard case .invalid(let named, _)? = Self.refusal(frame) else {
            return #expect(Bool(false), "a report with a bad \(field) was not refused as invalid: \(String(describing: Self.refusal(frame)))")
        }
        #expect(named == field)
    }
}
