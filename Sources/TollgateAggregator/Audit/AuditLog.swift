import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore

/// Every change made through the API, kept: who, when, what, before and after
/// (`tollgate audit`, `tollgate budget history`).
///
/// Recording is one call after the change succeeded:
/// `audit.record(actor, "budget.set", target: "budget:\(id)", before: old, after: new)`.
/// A change that failed is not recorded; a record that cannot be written is logged and
/// counted (`tollgate_audit_write_errors_total`) rather than undoing a change that is
/// already in effect.
public final class AuditLog: Sendable {
    private let store: UsageStore
    private let clock: ServiceClock
    private let metrics: AggregatorMetrics
    private let logger: Logger
    /// The last entry's millisecond and its order in it: entries of one millisecond keep
    /// the order they were made in. Held while writing, so that order is the log's.
    private let last = NIOLockedValueBox<(ms: Int64, order: UInt32)>((0, 0))

    init(store: UsageStore, clock: ServiceClock, metrics: AggregatorMetrics, logger: Logger) {
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    func record<Before: Encodable, After: Encodable>(_ actor: AuditActor, _ action: String, target: String, before: Before?, after: After?) {
        do {
            let beforeJSON = try before.map { try AuditJSON(encoding: $0) }, afterJSON = try after.map { try AuditJSON(encoding: $0) }
            try last.withLockedValue { last in
                // Never before the previous entry, even if the wall clock stepped back.
                let ms = max(clock.unixMilliseconds, last.ms)
                let order = ms == last.ms ? last.order + 1 : 0
                try store.appendAudit(AuditEntry(atUnixMs: ms, token: actor.token, actor: actor.name, action: action, target: target,
                                                 before: beforeJSON, after: afterJSON), order: order)
                last = (ms, order)
            }
            metrics.auditEntries(action).increment()
        } catch {
            metrics.auditWriteErrors.increment()
            logger.error("could not record \(action) on \(target) by \(actor.name) in the audit log: \(error)")
        }
    }

    /// Entries in [`fromMs`, `toMs`), oldest first; only `target` (exact, or every target
    /// of a kind with `budget:`), at most the newest `limit`.
    func entries(fromMs: Int64, toMs: Int64, target: String?, limit: Int) throws -> [AuditEntry] {
        let matching = try store.auditEntries(fromMs: fromMs, toMs: toMs) { entry in
            guard let target else { return true }
            return target.hasSuffix(":") ? entry.target.hasPrefix(target) : entry.target == target
        }
        return Array(matching.suffix(limit))
    }
}
