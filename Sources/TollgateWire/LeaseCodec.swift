import Foundation
import SwiftProtobuf

/// An agent's ask for (more of) a slice of a leased budget, or its giving one back
/// (`LeaseRequest` in the .proto). Amounts are in the budget unit's integer measure.
public struct LeaseRequestMessage: Equatable, Sendable {
    public var agentID: String
    public var budgetID: String
    public var windowStart: Int64
    /// The slice to top up or release; 0 opens a new one.
    public var leaseID: UInt64
    public var need: Int64
    public var want: Int64
    /// For a new slice: the agent's spend on the budget the aggregator may not have counted yet.
    public var unreflected: Int64
    public var release: Bool
    /// The last watermark for this agent it applied: batches after it may be counted twice.
    public var basisSeq: UInt64

    public init(agentID: String, budgetID: String, windowStart: Int64, leaseID: UInt64 = 0, need: Int64 = 0, want: Int64 = 0,
                unreflected: Int64 = 0, release: Bool = false, basisSeq: UInt64 = 0) {
        self.agentID = agentID
        self.budgetID = budgetID
        self.windowStart = windowStart
        self.leaseID = leaseID
        self.need = need
        self.want = want
        self.unreflected = unreflected
        self.release = release
        self.basisSeq = basisSeq
    }
}

/// The aggregator's answer to a `LeaseRequestMessage` (`LeaseGrant` in the .proto).
public struct LeaseGrantMessage: Equatable, Sendable {
    /// Why nothing was granted; the raw value is the wire's `refused` and a metric label.
    public enum Refusal: String, Sendable, CaseIterable {
        /// The sender is not a known agent, or its agent id is bound to another key.
        case unknownAgent = "unknown_agent"
        /// The budget is not leased (or does not exist, or leases are off).
        case notLeased = "not_leased"
        /// What remains unleased is less than the request's worst case.
        case noRemainder = "no_remainder"
        /// The request named a window that is not the budget's current one.
        case staleWindow = "stale_window"
        /// The slice to top up is not one the aggregator holds (it restarted, or it was released).
        case unknownLease = "unknown_lease"
    }

    public var budgetID: String
    public var windowStart: Int64
    public var leaseID: UInt64
    public var added: Int64
    public var total: Int64
    public var ttlMilliseconds: UInt32
    public var refused: Refusal?

    public init(budgetID: String, windowStart: Int64, leaseID: UInt64, added: Int64, total: Int64, ttlMilliseconds: UInt32,
                refused: Refusal? = nil) {
        self.budgetID = budgetID
        self.windowStart = windowStart
        self.leaseID = leaseID
        self.added = added
        self.total = total
        self.ttlMilliseconds = ttlMilliseconds
        self.refused = refused
    }
}

/// Lease messages travel on the usage channel as two frames, `["lease", message]`: a batch's
/// header never starts with that frame, and a reply to a batch is one frame, so neither
/// side confuses them with usage.
public enum LeaseCodec {
    public static let marker = Data("lease".utf8)
    /// Far above any honest message (ids are short); refused before decoding.
    public static let maxBytes = 1024

    public static func isLease(_ frames: [Data]) -> Bool {
        frames.count == 2 && frames[0] == marker
    }

    public static func frames(_ request: LeaseRequestMessage) throws -> [Data] {
        var message = Tollgate_V1_LeaseRequest()
        message.agentID = request.agentID
        message.budgetID = request.budgetID
        message.windowStartUnix = request.windowStart
        message.leaseID = request.leaseID
        message.need = request.need
        message.want = request.want
        message.unreflected = request.unreflected
        message.release = request.release
        message.basisSeq = request.basisSeq
        return [marker, try message.serializedData()]
    }

    public static func frames(_ grant: LeaseGrantMessage) throws -> [Data] {
        var message = Tollgate_V1_LeaseGrant()
        message.budgetID = grant.budgetID
        message.windowStartUnix = grant.windowStart
        message.leaseID = grant.leaseID
        message.added = grant.added
        message.total = grant.total
        message.ttlMs = grant.ttlMilliseconds
        message.refused = grant.refused?.rawValue ?? ""
        return [marker, try message.serializedData()]
    }

    public static func decodeRequest(_ frame: Data) throws -> LeaseRequestMessage {
        guard frame.count <= maxBytes else { throw WireError.corruptPayload("lease request of \(frame.count) bytes (at most \(maxBytes))") }
        let message: Tollgate_V1_LeaseRequest
        do {
            message = try Tollgate_V1_LeaseRequest(serializedBytes: frame)
        } catch {
            throw WireError.corruptPayload("unreadable lease request: \(error)")
        }
        guard !message.agentID.isEmpty, !message.budgetID.isEmpty else {
            throw WireError.corruptPayload("lease request without an agent id or a budget id")
        }
        guard message.need >= 0, message.want >= 0, message.unreflected >= 0 else {
            throw WireError.corruptPayload("lease request for budget \(message.budgetID) with a negative amount")
        }
        return LeaseRequestMessage(agentID: message.agentID, budgetID: message.budgetID, windowStart: message.windowStartUnix,
                                   leaseID: message.leaseID, need: message.need, want: message.want,
                                   unreflected: message.unreflected, release: message.release, basisSeq: message.basisSeq)
    }

    public static func decodeGrant(_ frame: Data) throws -> LeaseGrantMessage {
        guard frame.count <= maxBytes else { throw WireError.corruptPayload("lease grant of \(frame.count) bytes (at most \(maxBytes))") }
        let message: Tollgate_V1_LeaseGrant
        do {
            message = try Tollgate_V1_LeaseGrant(serializedBytes: frame)
        } catch {
            throw WireError.corruptPayload("unreadable lease grant: \(error)")
        }
        let refused: LeaseGrantMessage.Refusal?
        if message.refused.isEmpty {
            refused = nil
        } else {
            guard let known = LeaseGrantMessage.Refusal(rawValue: message.refused) else {
                throw WireError.corruptPayload("lease grant with an unknown refusal '\(message.refused)'")
            }
            refused = known
        }
        guard message.added >= 0, message.total >= message.added else {
            throw WireError.corruptPayload("lease grant for budget \(message.budgetID) with inconsistent amounts")
        }
        return LeaseGrantMessage(budgetID: message.budgetID, windowStart: message.windowStartUnix, leaseID: message.leaseID,
                                 added: message.added, total: message.total, ttlMilliseconds: message.ttlMs, refused: refused)
    }
}
