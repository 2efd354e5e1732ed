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
    public var quotaVersion: UInt64
    /// Since the last quota update applied; nil when none was ever received.
    public var quotaAgeMs: Int64?
    public var enforcement: Enforcement
    public var staleAfterMs: Int64
    public var reportIntervalMs: Int64
    public var sentUnixMs: Int64

    public init(agentID: String, name: String, version: String, ackedSeq: UInt64 = 0, spoolBatches: Int = 0, spoolBytes: Int64 = 0,
                spoolOverBound: Bool = false, quotaVersion: UInt64 = 0, quotaAgeMs: Int64? = nil, enforcement: Enforcement = .enforce,
                staleAfterMs: Int64, reportIntervalMs: Int64, sentUnixMs: Int64) {
        self.agentID = agentID
        self.name = name
        self.version = version
        self.ackedSeq = ackedSeq
        self.spoolBatches = spoolBatches
        self.spoolBytes = spoolBytes
        self.spoolOverBound = spoolOverBound
        self.quotaVersion = quotaVersion
        self.quotaAgeMs = quotaAgeMs
        self.enforcement = enforcement
        self.staleAfterMs = staleAfterMs
        self.reportIntervalMs = reportIntervalMs
        self.sentUnixMs = sentUnixMs
    }

    /// The .proto's field names, so the aggregator's stored copy reads like the wire message.
    enum CodingKeys: String, CodingKey {
        case agentID = "agent_id", name, version, ackedSeq = "acked_seq", spoolBatches = "spool_batches"
        case spoolBytes = "spool_bytes", spoolOverBound = "spool_over_bound", quotaVersion = "quota_version"
        case quotaAgeMs = "quota_age_ms", enforcement, staleAfterMs = "stale_after_ms"
        case reportIntervalMs = "report_interval_ms", sentUnixMs = "sent_unix_ms"
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
    /// A report is a few hundred bytes; anything near this is not one.
    public static let maxBytes = 4096
    static let maxIDLength = 128
    static let maxNameLength = 255
    static let maxVersionLength = 64

    public static func encode(_ report: AgentReportMessage) throws -> Data {
        var message = Tollgate_V1_AgentReport()
        message.agentID = report.agentID
        message.name = report.name
        message.version = report.version
        message.ackedSeq = report.ackedSeq
        message.spoolBatches = UInt32(clamping: report.spoolBatches)
        message.spoolBytes = UInt64(clamping: report.spoolBytes)
        message.spoolOverBound = report.spoolOverBound
        message.quotaVersion = report.quotaVersion
        if let age = report.quotaAgeMs { message.quotaAgeMs = age }
        message.enforcement = report.enforcement.rawValue
        message.staleAfterMs = UInt32(clamping: report.staleAfterMs)
        message.reportIntervalMs = UInt32(clamping: report.reportIntervalMs)
        message.sentUnixMs = report.sentUnixMs
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
        return AgentReportMessage(
            agentID: message.agentID, name: message.name, version: message.version, ackedSeq: message.ackedSeq,
            spoolBatches: Int(message.spoolBatches), spoolBytes: Int64(message.spoolBytes), spoolOverBound: message.spoolOverBound,
            quotaVersion: message.quotaVersion, quotaAgeMs: message.hasQuotaAgeMs ? message.quotaAgeMs : nil, enforcement: enforcement,
            staleAfterMs: Int64(message.staleAfterMs), reportIntervalMs: Int64(message.reportIntervalMs), sentUnixMs: message.sentUnixMs)
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
