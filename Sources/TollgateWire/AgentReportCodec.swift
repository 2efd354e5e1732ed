import Foundation
import SwiftProtobuf

/// What an agent says about itself on the usage channel (`AgentReport` in the .proto):
/// who it is, how far its shipping has got and how fresh its quota state is. The
/// aggregator's fleet registry keeps the latest one per agent.
public struct AgentReportMessage: Equatable, Sendable, Codable {
    public enum Enforcement: String, Sendable, CaseIterable, Codable {
        case enforce, observe
    }

    public var agentID: String
    public var name: String
    public var version: String
    /// The highest batch seq the aggregator acknowledged since the agent started; 0 for none.
    public var ackedSeq: UInt64
    public var spoolBatches: Int
    public var spoolBytes: Int64
    public var spoolOverBound: Bool
    /// The agent cannot write its spool (disk full, I/O errors).
    public var spoolUnwritable: Bool
    public var quotaVersion: UInt64
    /// Since the last quota update applied; nil when none was ever received.
    public var quotaAgeMs: Int64?
    public var enforcement: Enforcement
    public var staleAfterMs: Int64
    public var reportIntervalMs: Int64
    public var sentUnixMs: Int64
    /// What budgets would have refused on this agent, per budget, in each one's current
    /// window, since `startedUnixMs`; nil from agents that predate the field.
    public var wouldBlock: [BudgetWouldBlock]?
    /// When the agent process started: a new value means its counts began again from 0.
    /// Nil from agents that predate the field.
    public var startedUnixMs: Int64?
    /// Per spend policy, what it did on this agent since `startedUnixMs`; nil from agents
    /// that predate the field.
    public var policyHits: [PolicyHitCounts]?
    /// Policies this agent received and could not apply (it keeps the previous version);
    /// nil from agents that predate the field.
    public var rejectedPolicies: [PolicyRejection]?

    public init(agentID: String, name: String, version: String, ackedSeq: UInt64 = 0, spoolBatches: Int = 0, spoolBytes: Int64 = 0,
                spoolOverBound: Bool = false, spoolUnwritable: Bool = false, quotaVersion: UInt64 = 0, quotaAgeMs: Int64? = nil, enforcement: Enforcement = .enforce,
                staleAfterMs: Int64, reportIntervalMs: Int64, sentUnixMs: Int64, wouldBlock: [BudgetWouldBlock]? = nil,
                startedUnixMs: Int64? = nil, policyHits: [PolicyHitCounts]? = nil, rejectedPolicies: [PolicyRejection]? = nil) {
        self.agentID = agentID
        self.name = name
        self.version = version
        self.ackedSeq = ackedSeq
        self.spoolBatches = spoolBatches
        self.spoolBytes = spoolBytes
        self.spoolOverBound = spoolOverBound
        self.spoolUnwritable = spoolUnwritable
        self.quotaVersion = quotaVersion
        self.quotaAgeMs = quotaAgeMs
        self.enforcement = enforcement
        self.staleAfterMs = staleAfterMs
        self.reportIntervalMs = reportIntervalMs
        self.sentUnixMs = sentUnixMs
        self.wouldBlock = wouldBlock
        self.startedUnixMs = startedUnixMs
        self.policyHits = policyHits
        self.rejectedPolicies = rejectedPolicies
    }

    /// The .proto's field names, so the aggregator's stored copy reads like the wire message.
    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", name, version, ackedSeq = "acked_seq", spoolBatches = "spool_batches"
        case spoolBytes = "spool_bytes", spoolOverBound = "spool_over_bound", quotaVersion = "quota_version"
        case quotaAgeMs = "quota_age_ms", enforcement, staleAfterMs = "stale_after_ms"
        case reportIntervalMs = "report_interval_ms", sentUnixMs = "sent_unix_ms"
        case wouldBlock = "would_block", startedUnixMs = "started_unix_ms", spoolUnwritable = "spool_unwritable"
        case policyHits = "policy_hits", rejectedPolicies = "rejected_policies"
    }

    /// Stored reports from before `spool_unwritable` read as writable.
    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        agentID = try container.decode(String.self, forKey: .agentID)
        name = try container.decode(String.self, forKey: .name)
        version = try container.decode(String.self, forKey: .version)
        ackedSeq = try container.decode(UInt64.self, forKey: .ackedSeq)
        spoolBatches = try container.decode(Int.self, forKey: .spoolBatches)
        spoolBytes = try container.decode(Int64.self, forKey: .spoolBytes)
        spoolOverBound = try container.decode(Bool.self, forKey: .spoolOverBound)
        spoolUnwritable = try container.decodeIfPresent(Bool.self, forKey: .spoolUnwritable) ?? false
        quotaVersion = try container.decode(UInt64.self, forKey: .quotaVersion)
        quotaAgeMs = try container.decodeIfPresent(Int64.self, forKey: .quotaAgeMs)
        enforcement = try container.decode(Enforcement.self, forKey: .enforcement)
        staleAfterMs = try container.decode(Int64.self, forKey: .staleAfterMs)
        reportIntervalMs = try container.decode(Int64.self, forKey: .reportIntervalMs)
        sentUnixMs = try container.decode(Int64.self, forKey: .sentUnixMs)
        wouldBlock = try container.decodeIfPresent([BudgetWouldBlock].self, forKey: .wouldBlock)
        startedUnixMs = try container.decodeIfPresent(Int64.self, forKey: .startedUnixMs)
        policyHits = try container.decodeIfPresent([PolicyHitCounts].self, forKey: .policyHits)
        rejectedPolicies = try container.decodeIfPresent([PolicyRejection].self, forKey: .rejectedPolicies)
    }
}

/// How many requests one budget would have refused on one agent in the window starting at
/// `windowStart` (Unix seconds): an observe-mode budget, or any budget on an agent whose
/// `quota.enforcement` is observe.
public struct BudgetWouldBlock: Equatable, Hashable, Sendable, Codable {
    public var budgetID: String
    public var windowStart: Int64
    public var requests: Int64

    public init(budgetID: String, windowStart: Int64, requests: Int64) {
        self.budgetID = budgetID
        self.windowStart = windowStart
        self.requests = requests
    }

    enum CodingKeys: String, CodingKey {
        case budgetID = "budget_id", windowStart = "window_start_unix", requests
    }
}

/// Why a report was refused. The aggregator counts each `reason` and keeps running.
public enum AgentReportError: Error, Equatable, CustomStringConvertible {
    case oversized(Int)
    case unreadable(String)
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case .oversized(let bytes): "agent report of \(bytes) bytes exceeds the \(AgentReportCodec.maxBytes)-byte limit"
        case .unreadable(let reason): "unreadable agent report: \(reason)"
        case .invalid(let field, let reason): "agent report field \(field): \(reason)"
        }
    }

    /// Every `reason`, so a metric can export each at zero before it first happens.
    public static let reasons = ["oversized", "unreadable", "invalid"]

    /// A short label for metrics.
    public var reason: String {
        switch self {
        case .oversized: "oversized"
        case .unreadable: "unreadable"
        case .invalid: "invalid"
        }
    }
}

/// Encodes an agent report as its one frame, and decodes one defensively: every field an
/// operator will read is checked here, so the registry only ever holds sane values.
public enum AgentReportCodec {
    /// A report is a few hundred bytes, plus up to `maxWouldBlock` budget counts (a budget id
    /// is at most 128 bytes), `maxPolicyHits` policy counts and `maxRejectedPolicies`
    /// rejections (about 100 kB at the very most); anything near this is not one.
    public static let maxBytes = 131_072
    /// Would-block counts in one report: the agent sends the largest this many.
    public static let maxWouldBlock = 256
    static let maxIDLength = 128
    static let maxNameLength = 255
    static let maxVersionLength = 64
    /// Policy hit counts in one report: the agent sends those of the most-hit policies.
    public static let maxPolicyHits = 256
    /// Rejected policies in one report, and the length of each reason.
    public static let maxRejectedPolicies = 64
    public static let maxRejectionReasonLength = 256

    public static func encode(_ report: AgentReportMessage) throws -> Data {
        var message = Tollgate_V1_AgentReport()
        message.agentID = report.agentID
        message.name = report.name
        message.version = report.version
        message.ackedSeq = report.ackedSeq
        message.spoolBatches = UInt32(clamping: report.spoolBatches)
        message.spoolBytes = UInt64(clamping: report.spoolBytes)
        message.spoolOverBound = report.spoolOverBound
        message.spoolUnwritable = report.spoolUnwritable
        message.quotaVersion = report.quotaVersion
        if let age = report.quotaAgeMs { message.quotaAgeMs = age }
        message.enforcement = report.enforcement.rawValue
        message.staleAfterMs = UInt32(clamping: report.staleAfterMs)
        message.reportIntervalMs = UInt32(clamping: report.reportIntervalMs)
        message.sentUnixMs = report.sentUnixMs
        message.wouldBlock = (report.wouldBlock ?? []).map { count in
            var entry = Tollgate_V1_BudgetWouldBlock()
            entry.budgetID = count.budgetID
            entry.windowStartUnix = count.windowStart
            entry.requests = UInt64(clamping: count.requests)
            return entry
        }
        if let started = report.startedUnixMs { message.startedUnixMs = started }
        message.policyHits = (report.policyHits ?? []).map(Tollgate_V1_PolicyHits.init)
        message.rejectedPolicies = (report.rejectedPolicies ?? []).map { rejection in
            var entry = Tollgate_V1_PolicyRejection()
            entry.policyID = rejection.policyID
            entry.reason = rejection.reason
            return entry
        }
        return try message.serializedData()
    }

    public static func decode(_ data: Data) throws(AgentReportError) -> AgentReportMessage {
        guard data.count <= maxBytes else { throw .oversized(data.count) }
        let message: Tollgate_V1_AgentReport
        do {
            message = try Tollgate_V1_AgentReport(serializedBytes: data)
        } catch {
            throw .unreadable("\(error)")
        }
        try check("agent_id", message.agentID, maxLength: maxIDLength, required: true)
        try check("name", message.name, maxLength: maxNameLength, required: true)
        try check("version", message.version, maxLength: maxVersionLength, required: true)
        guard let enforcement = AgentReportMessage.Enforcement(rawValue: message.enforcement) else {
            throw .invalid(field: "enforcement", reason: "'\(message.enforcement.prefix(32))' is not enforce or observe")
        }
        guard message.reportIntervalMs > 0 else { throw .invalid(field: "report_interval_ms", reason: "must be above 0") }
        guard message.staleAfterMs > 0 else { throw .invalid(field: "stale_after_ms", reason: "must be above 0") }
        if message.hasQuotaAgeMs, message.quotaAgeMs < 0 { throw .invalid(field: "quota_age_ms", reason: "negative") }
        guard message.spoolBytes <= UInt64(Int64.max) else { throw .invalid(field: "spool_bytes", reason: "out of range") }
        guard message.wouldBlock.count <= maxWouldBlock else {
            throw .invalid(field: "would_block", reason: "\(message.wouldBlock.count) entries, at most \(maxWouldBlock)")
        }
        var wouldBlock: [BudgetWouldBlock] = []
        for entry in message.wouldBlock {
            try check("would_block.budget_id", entry.budgetID, maxLength: maxIDLength, required: true)
            guard entry.requests <= UInt64(Int64.max) else { throw .invalid(field: "would_block.requests", reason: "out of range") }
            wouldBlock.append(BudgetWouldBlock(budgetID: entry.budgetID, windowStart: entry.windowStartUnix, requests: Int64(entry.requests)))
        }
        // One count per budget: a second would be summed twice into the fleet's figure.
        guard Set(wouldBlock.map(\.budgetID)).count == wouldBlock.count else {
            throw .invalid(field: "would_block", reason: "a budget appears twice")
        }
        guard message.startedUnixMs >= 0 else { throw .invalid(field: "started_unix_ms", reason: "negative") }
        // Both absent (0, empty) from agents that predate them: nil, not "started in 1970".
        let started = message.startedUnixMs > 0 ? message.startedUnixMs : nil
        let (policyHits, rejectedPolicies) = try policies(in: message)
        return AgentReportMessage(
            agentID: message.agentID, name: message.name, version: message.version, ackedSeq: message.ackedSeq,
            spoolBatches: Int(message.spoolBatches), spoolBytes: Int64(message.spoolBytes), spoolOverBound: message.spoolOverBound,
            spoolUnwritable: message.spoolUnwritable,
            quotaVersion: message.quotaVersion, quotaAgeMs: message.hasQuotaAgeMs ? message.quotaAgeMs : nil, enforcement: enforcement,
            staleAfterMs: Int64(message.staleAfterMs), reportIntervalMs: Int64(message.reportIntervalMs), sentUnixMs: message.sentUnixMs,
            wouldBlock: started != nil || !wouldBlock.isEmpty ? wouldBlock : nil, startedUnixMs: started,
            policyHits: policyHits, rejectedPolicies: rejectedPolicies)
    }

    /// Policy hits and rejections, checked like the rest; nil when the agent sent none.
    private static func policies(in message: Tollgate_V1_AgentReport) throws(AgentReportError) -> ([PolicyHitCounts]?, [PolicyRejection]?) {
        guard message.policyHits.count <= maxPolicyHits else {
            throw .invalid(field: "policy_hits", reason: "\(message.policyHits.count) entries, at most \(maxPolicyHits)")
        }
        guard message.rejectedPolicies.count <= maxRejectedPolicies else {
            throw .invalid(field: "rejected_policies", reason: "\(message.rejectedPolicies.count) entries, at most \(maxRejectedPolicies)")
        }
        var hits: [PolicyHitCounts] = []
        for entry in message.policyHits {
            try check("policy_hits.policy_id", entry.policyID, maxLength: maxIDLength, required: true)
            let counts = [entry.routed, entry.refused, entry.dryRunRouted, entry.dryRunRefused]
            guard counts.allSatisfy({ $0 <= UInt64(Int64.max) }) else { throw .invalid(field: "policy_hits", reason: "count out of range") }
            hits.append(PolicyHitCounts(policyID: entry.policyID, routed: Int64(entry.routed), refused: Int64(entry.refused),
                                        dryRunRouted: Int64(entry.dryRunRouted), dryRunRefused: Int64(entry.dryRunRefused)))
        }
        guard Set(hits.map(\.policyID)).count == hits.count else { throw .invalid(field: "policy_hits", reason: "a policy appears twice") }
        var rejections: [PolicyRejection] = []
        for entry in message.rejectedPolicies {
            try check("rejected_policies.policy_id", entry.policyID, maxLength: maxIDLength, required: true)
            try check("rejected_policies.reason", entry.reason, maxLength: maxRejectionReasonLength, required: false)
            rejections.append(PolicyRejection(policyID: entry.policyID, reason: entry.reason))
        }
        return (hits.isEmpty ? nil : hits, rejections.isEmpty ? nil : rejections)
    }

    /// Names and ids end up in tables and logs: printable, bounded, present.
    private static func check(_ field: String, _ value: String, maxLength: Int, required: Bool) throws(AgentReportError) {
        if required && value.isEmpty { throw .invalid(field: field, reason: "missing") }
        guard value.utf8.count <= maxLength else { throw .invalid(field: field, reason: "longer than \(maxLength) bytes") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid(field: field, reason: "contains control characters")
        }
    }
}
