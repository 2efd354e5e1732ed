import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// The spend policies this agent enforces, as the aggregator pushes them with the quota
/// state: a snapshot replaces them, a delta upserts and removes some (DESIGN.md, "Policy").
///
/// A policy the agent cannot apply (it did not parse, or names a model this agent's catalog
/// does not know, or routes across providers) is rejected: the previous version of that id
/// stays in force (or none), and the rejection is reported (`rejections`, in every fleet
/// report and `/status`) until a later version of the policy applies or it is removed.
///
/// Every metered request reads `set`, the ready `PolicySet`, rebuilt only when an update
/// changes the policies.
final class PolicyBook: Sendable {
    private struct State {
        var applied: [String: Policy] = [:]
        var rejected: [String: PolicyRejection] = [:]
        /// Rejections already logged and counted, one per policy id and version received.
        var announced: Set<String> = []
        var hits: [String: PolicyHitCounts] = [:]
    }

    /// One policy of an update, checked.
    private enum Outcome {
        case success(Policy)
        case failure(PolicyRejection)
    }

    private let state = NIOLockedValueBox(State())
    private let ready = NIOLockedValueBox(PolicySet.empty)
    /// This agent's price catalog: policies name models by the ids it resolves.
    let catalog: PriceCatalog

    init(catalog: PriceCatalog) {
        self.catalog = catalog
    }

    /// What every metered request is decided against; nil when there are no policies, the
    /// usual case, which then costs one uncontended lock and no copy.
    var active: PolicySet? { ready.withLockedValue { $0.isEmpty ? nil : $0 } }

    var set: PolicySet { ready.withLockedValue { $0 } }

    var count: Int { state.withLockedValue { $0.applied.count } }

    /// The policies received and not applied, by id.
    var rejections: [PolicyRejection] {
        state.withLockedValue { $0.rejected.values.sorted { $0.policyID < $1.policyID } }
    }

    /// Per policy, what it did here since the agent started.
    var hits: [PolicyHitCounts] {
        state.withLockedValue { $0.hits.values.sorted { $0.policyID < $1.policyID } }
    }

    /// Applies the policies of an applied quota update. Returns the rejections not seen
    /// before (to log and count once each), in id order.
    @discardableResult
    func apply(_ update: QuotaUpdateMessage) -> [PolicyRejection] {
        guard update.isSnapshot || !update.policies.isEmpty || !update.removedPolicyIDs.isEmpty || !update.unreadablePolicies.isEmpty else {
            return []
        }
        // Checked outside the lock: the catalog's lookups are the costly part.
        var incoming: [(id: String, outcome: Outcome, version: String)] = []
        for policy in update.policies {
            do {
                incoming.append((policy.id, .success(try applicable(policy)), ""))
            } catch {
                incoming.append((policy.id, .failure(Self.rejection(policy.id, "\(error)")), "\(policy.hashValue)"))
            }
        }
        for unreadable in update.unreadablePolicies {
            incoming.append((unreadable.policyID, .failure(Self.rejection(unreadable.policyID, unreadable.reason)), unreadable.reason))
        }
        let (newlyRejected, policies) = state.withLockedValue { state -> ([PolicyRejection], [Policy]) in
            var applied = update.isSnapshot ? [:] : state.applied
            if update.isSnapshot { state.rejected = [:] }
            for id in update.removedPolicyIDs {
                applied[id] = nil
                state.rejected[id] = nil
            }
            var newlyRejected: [PolicyRejection] = []
            for entry in incoming {
                switch entry.outcome {
                case .success(let policy):
                    applied[entry.id] = policy
                    state.rejected[entry.id] = nil
                case .failure(let rejection):
                    // The version in force before stays in force (a snapshot names it again).
                    if update.isSnapshot, let previous = state.applied[entry.id] { applied[entry.id] = previous }
                    state.rejected[entry.id] = rejection
                    if state.announced.insert(entry.id + "\u{0}" + entry.version).inserted { newlyRejected.append(rejection) }
                }
            }
            state.applied = applied
            return (newlyRejected.sorted { $0.policyID < $1.policyID }, Array(applied.values))
        }
        ready.withLockedValue { $0 = PolicySet(policies) }
        return newlyRejected
    }

    /// Counts what a decision did (and would have done in dry-run), per policy.
    func count(_ decision: PolicyDecision) {
        guard decision.route != nil || decision.refusal != nil || !decision.dryRun.isEmpty else { return }
        state.withLockedValue { state in
            if let route = decision.route { state.hits[route.policyID, default: .init(policyID: route.policyID)].routed += 1 }
            if let refusal = decision.refusal { state.hits[refusal.policyID, default: .init(policyID: refusal.policyID)].refused += 1 }
            for hit in decision.dryRun {
                switch hit.action {
                case .routed: state.hits[hit.policyID, default: .init(policyID: hit.policyID)].dryRunRouted += 1
                case .refused: state.hits[hit.policyID, default: .init(policyID: hit.policyID)].dryRunRefused += 1
                }
            }
        }
    }

    /// The policy as this agent will enforce it (model names made its catalog's canonical
    /// ids), or why it cannot: the aggregator's own checks, against this agent's catalog,
    /// which may be older than the aggregator's.
    private func applicable(_ policy: Policy) throws -> Policy {
        // Budgets are the aggregator's to check (the agent may not hold the one a downgrade
        // names yet), and exceptions expire by the clock at each request.
        try PolicyValidator(catalog: catalog, budgetIDs: [policy.budgetID]).validated(policy, others: [], nowUnix: .min)
    }

    /// Reasons travel in reports and `/status`: printable, bounded.
    private static func rejection(_ id: String, _ reason: String) -> PolicyRejection {
        let printable = String(String.UnicodeScalarView(reason.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        var bounded = ""
        for character in printable {
            guard bounded.utf8.count + character.utf8.count <= AgentReportCodec.maxRejectionReasonLength else { break }
            bounded.append(character)
        }
        return PolicyRejection(policyID: String(id.prefix(64)), reason: bounded)
    }
}
