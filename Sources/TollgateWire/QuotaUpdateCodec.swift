import Foundation
import SwiftProtobuf
import TollgateCore

/// One message on the quota channel: budget statuses the aggregator pushes to agents.
public struct QuotaUpdateMessage: Equatable, Sendable {
    /// +1 per message published; an agent that sees a gap asks for a snapshot.
    public var version: UInt64
    /// Every budget, replacing what the agent holds (else only the budgets that changed).
    public var isSnapshot: Bool
    public var budgets: [BudgetStatus]
    public var removedBudgetIDs: [String]
    public var issuedAtMilliseconds: Int64
    /// Per agent id, the last usage batch seq whose counters the `spent` values include
    /// (read with them, in one instant): what an agent may stop counting locally.
    public var watermarks: [String: UInt64]
    /// Key id → the team and project its un-attributed requests count for (`KeyLabel` with
    /// only those fields): every labelled key in a snapshot, the changed ones in a delta.
    public var keyLabels: [KeyLabel] = []
    /// Keys whose label was removed (deltas only).
    public var removedKeyLabelIDs: [String] = []
    /// Spend policies: every policy in a snapshot, the changed ones in a delta.
    public var policies: [Policy] = []
    public var removedPolicyIDs: [String] = []
    /// Decoding only: policies in the message that did not parse, with the reason. The
    /// rest of the message stands; the agent keeps its previous version of these.
    public var unreadablePolicies: [PolicyRejection] = []

    public init(version: UInt64, isSnapshot: Bool, budgets: [BudgetStatus], removedBudgetIDs: [String] = [], issuedAtMilliseconds: Int64,
                watermarks: [String: UInt64] = [:], keyLabels: [KeyLabel] = [], removedKeyLabelIDs: [String] = []) {
        self.keyLabels = keyLabels
        self.removedKeyLabelIDs = removedKeyLabelIDs
        self.version = version
        self.isSnapshot = isSnapshot
        self.budgets = budgets
        self.removedBudgetIDs = removedBudgetIDs
        self.issuedAtMilliseconds = issuedAtMilliseconds
        self.watermarks = watermarks
    }
}

/// Encodes quota updates as one protobuf frame, and decodes them defensively: a malformed,
/// oversized or unintelligible frame is a `WireError`, never a crash or a guessed budget.
public enum QuotaUpdateCodec {
    /// Far above any real snapshot (about 200 bytes per budget), far below harm.
    public static let maxBytes = 16 << 20

    public static func encode(_ message: QuotaUpdateMessage) throws -> Data {
        var update = Tollgate_V1_QuotaUpdate()
        update.version = message.version
        update.snapshot = message.isSnapshot
        update.budgets = message.budgets.map(Tollgate_V1_BudgetQuota.init)
        update.removedBudgetIds = message.removedBudgetIDs
        update.issuedUnixMs = message.issuedAtMilliseconds
        update.watermarks = message.watermarks.sorted { $0.key < $1.key }.map { agentID, seq in
            var watermark = Tollgate_V1_AgentWatermark()
            watermark.agentID = agentID
            watermark.seq = seq
            return watermark
        }
        update.keyLabels = message.keyLabels.map { label in
            var wire = Tollgate_V1_KeyLabel()
            wire.keyID = label.keyID
            wire.team = label.team
            wire.project = label.project
            return wire
        }
        update.removedKeyLabelIds = message.removedKeyLabelIDs
        update.policies = message.policies.map(Tollgate_V1_SpendPolicy.init)
        update.removedPolicyIds = message.removedPolicyIDs
        return try update.serializedData()
    }

    public static func decode(_ data: Data) throws -> QuotaUpdateMessage {
        guard data.count <= maxBytes else { throw WireError.oversized(data.count) }
        let update: Tollgate_V1_QuotaUpdate
        do {
            update = try Tollgate_V1_QuotaUpdate(serializedBytes: data)
        } catch {
            throw WireError.corruptPayload("quota update: \(error)")
        }
        var watermarks: [String: UInt64] = [:]
        for watermark in update.watermarks {
            // Two values for one agent could only be a forgery or a bug: trust neither.
            guard watermarks.updateValue(watermark.seq, forKey: watermark.agentID) == nil else {
                throw WireError.corruptPayload("quota update: agent \(watermark.agentID) has two watermarks")
            }
        }
        var message = QuotaUpdateMessage(version: update.version, isSnapshot: update.snapshot,
                                  budgets: try update.budgets.map { try $0.domainStatus() },
                                  removedBudgetIDs: update.removedBudgetIds, issuedAtMilliseconds: update.issuedUnixMs,
                                  watermarks: watermarks,
                                  keyLabels: update.keyLabels.map { KeyLabel(keyID: $0.keyID, team: $0.team, project: $0.project) },
                                  removedKeyLabelIDs: update.removedKeyLabelIds)
        for wire in update.policies {
            do {
                message.policies.append(try wire.domainPolicy())
            } catch {
                message.unreadablePolicies.append(PolicyRejection(policyID: wire.id, reason: "\(error)"))
            }
        }
        message.removedPolicyIDs = update.removedPolicyIds
        return message
    }
}

extension Tollgate_V1_BudgetQuota {
    init(_ status: BudgetStatus) {
        self.init()
        budgetID = status.budgetID
        selector = status.selector.conditions.map { condition in
            var term = Tollgate_V1_SelectorTerm()
            term.dimension = condition.dimension.rawValue
            term.value = condition.value
            return term
        }
        unit = status.unit.rawValue
        period = status.period.rawValue
        action = status.action.rawValue
        owner = status.owner
        limit = status.limit
        effectiveLimit = status.effectiveLimit
        if let blockAt = status.blockAt { self.blockAt = blockAt }
        spent = status.spent
        windowStartUnix = status.windowStart
        windowEndUnix = status.windowEnd
        state = status.state.name
        if case .warning(let threshold) = status.state { thresholdPercent = Int32(clamping: threshold) }
        asOfUnix = status.asOf
        if status.mode != .enforce { mode = status.mode.rawValue }
        leased = status.leased
        if let bound = status.overshootBound { overshootBound = bound }
    }

    func domainStatus() throws -> BudgetStatus {
        func invalid(_ what: String) -> WireError { .corruptPayload("budget \(budgetID): \(what)") }
        let conditions = try selector.map { term -> BudgetSelector.Condition in
            guard let dimension = UsageDimension(rawValue: term.dimension) else { throw invalid("unknown dimension '\(term.dimension)'") }
            return BudgetSelector.Condition(dimension, term.value)
        }
        guard let unit = BudgetUnit(rawValue: unit) else { throw invalid("unknown unit '\(unit)'") }
        guard let period = BudgetPeriod(rawValue: period) else { throw invalid("unknown period '\(period)'") }
        guard let action = BudgetAction(rawValue: action) else { throw invalid("unknown action '\(action)'") }
        let state: BudgetState
        switch self.state {
        case "ok": state = .ok
        case "warning": state = .warning(thresholdPercent: Int(thresholdPercent))
        case "over_limit": state = .overLimit
        case "blocked": state = .blocked
        default: throw invalid("unknown state '\(self.state)'")
        }
        guard let mode = mode.isEmpty ? .enforce : BudgetMode(rawValue: mode) else { throw invalid("unknown mode '\(mode)'") }
        var status = BudgetStatus.received(budgetID: budgetID, selector: BudgetSelector(conditions: conditions), unit: unit, period: period,
                            action: action, owner: owner, limit: limit, effectiveLimit: effectiveLimit,
                            blockAt: hasBlockAt ? blockAt : nil, spent: spent, windowStart: windowStartUnix, windowEnd: windowEndUnix,
                            state: state, asOf: asOfUnix, mode: mode)
        status.leased = leased
        status.overshootBound = hasOvershootBound ? overshootBound : nil
        return status
    }
}
