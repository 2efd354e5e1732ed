import Foundation
import Logging
import NIOConcurrencyHelpers
import TollgateCore

/// A change in budget statuses, as observers receive it.
public struct BudgetUpdate: Sendable, Equatable {
    public enum Cause: String, Sendable {
        /// A committed usage batch added spend to these budgets.
        case usage
        /// A budget was created or changed through the API.
        case budgetSet = "budget_set"
        /// A budget was removed: see `removedBudgetIDs`; agents should forget it.
        case budgetRemoved = "budget_removed"
        /// An exemption changed a budget's effective limit.
        case exemption
    }

    public var cause: Cause
    /// The new statuses of every budget the change touched, in their current windows.
    public var statuses: [BudgetStatus]
    /// Budgets that no longer exist (only for `.budgetRemoved`).
    public var removedBudgetIDs: [String]
    /// For `.usage`: the committing agent and its batch's seq, which `statuses` include.
    public var watermarks: [String: UInt64] = [:]
    /// The store's generation the statuses were read at: they include every change up to it.
    public var generation: UInt64 = 0
}

/// The aggregator's view of every budget in its current window: statuses for the API,
/// alerts when spend crosses a level, and change notifications for whoever pushes quota
/// state to agents.
///
/// `@unchecked Sendable`: its mutable state (observers, the fired-alert cache) is behind locks.
/// `didCommit` runs on the ingest commit thread; the budget mutations on the API's threads.
public final class BudgetBoard: @unchecked Sendable {
    let store: UsageStore
    private let alerts: BudgetAlerts
    private let clock: ServiceClock
    /// Near a limit, leases what remains and marks statuses leased; nil: no leases.
    let leases: LeaseDesk?
    private let lock = NIOLock()
    private var observers: [@Sendable (BudgetUpdate) -> Void] = []
    /// (budget, window start, level) already fired: skips the RocksDB check on every batch.
    private var fired: Set<AlertMark> = []
    /// The current window by period and zone (`currentWindow`).
    private var currentWindows: [WindowKey: BudgetWindow] = [:]

    private struct WindowKey: Hashable {
        var period: BudgetPeriod
        var timeZone: String
    }

    private struct AlertMark: Hashable {
        var budgetID: String
        var windowStart: Int64
        var level: Int
    }

    /// `clock` is injectable so tests (and window boundaries) run on a manual clock.
    public init(store: UsageStore, alerts: BudgetAlerts, clock: ServiceClock = .system) {
        self.store = store
        self.alerts = alerts
        self.clock = clock
        leases = nil
    }

    init(store: UsageStore, alerts: BudgetAlerts, clock: ServiceClock = .system, leases: LeaseDesk?) {
        self.store = store
        self.alerts = alerts
        self.clock = clock
        self.leases = leases
    }

    public var now: Int64 { clock.unixSeconds }

    /// Calls `observer` after every committed batch that added spend to a budget (on the
    /// ingest commit thread: hand off, don't block) and after every budget or exemption change
    /// through the API.
    public func addObserver(_ observer: @escaping @Sendable (_ update: BudgetUpdate) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    /// Every budget's status in its current window, by id.
    public func statuses() throws -> [BudgetStatus] {
        let now = now
        return try store.budgets().map { try status(of: $0, now: now) }
    }

    /// What a quota snapshot says: every budget's status and every agent's watermark,
    /// read in one instant so each status includes exactly the batches the watermarks name.
    public func quotaSnapshot() throws -> (statuses: [BudgetStatus], watermarks: [String: UInt64], generation: UInt64) {
        let now = now
        let reading = try store.quotaReading { currentWindow(of: $0, now: now) }
        let statuses = reading.spend.map { entry in
            var status = BudgetStatus.evaluate(budget: entry.budget.budget, exemptions: entry.budget.exemptions, spent: entry.spent, window: entry.window, now: now)
            leases?.annotate(&status)
            return status
        }
        return (statuses, reading.watermarks, reading.generation)
    }

    public func status(budgetID id: String) throws -> BudgetStatus? {
        guard let stored = store.budget(id: id) else { return nil }
        return try status(of: stored, now: now)
    }

    /// Called by the ingest commit thread after each committed batch with what it added;
    /// `watermark` names the batch (its agent and seq) and `generation` is the store's
    /// right after it (`Committed.generation`).
    public func didCommit(_ spend: [BudgetSpend], watermark: (agentID: String, seq: UInt64)? = nil, generation: UInt64 = 0) {
        guard !spend.isEmpty else { return }
        let now = now
        leases?.committed(spend.map { ($0.budgetID, $0.window.start, $0.added, $0.spent) }, agentID: watermark?.agentID, seq: watermark?.seq)
        var statuses: [BudgetStatus] = []
        var seen = Set<String>()
        for entry in spend where seen.insert(entry.budgetID).inserted {
            guard let stored = store.budget(id: entry.budgetID) else { continue }
            let window = currentWindow(of: stored.budget, now: now)
            // Late cells for an earlier window change nothing now; their spend is stored,
            // but alerts and statuses concern the current window.
            let current = spend.last { $0.budgetID == entry.budgetID && $0.window == window }
            let spent: Int64
            if let current {
                spent = current.spent
            } else if let read = try? store.spent(budgetID: entry.budgetID, windowStart: window.start) {
                spent = read
            } else {
                continue
            }
            var status = BudgetStatus.evaluate(budget: stored.budget, exemptions: stored.exemptions, spent: spent, window: window, now: now)
            leases?.annotate(&status)
            if current != nil { checkAlerts(stored.budget, status) }
            statuses.append(status)
        }
        notify(BudgetUpdate(cause: .usage, statuses: statuses, removedBudgetIDs: [],
                            watermarks: watermark.map { [$0.agentID: $0.seq] } ?? [:], generation: generation))
    }

    /// Creates or replaces a budget (recounting its current window when what it counts
    /// changed), then alerts and notifies as if spend had just arrived.
    @discardableResult
    public func setBudget(_ budget: Budget) throws -> (change: BudgetChange, status: BudgetStatus) {
        let now = now
        let change = try store.setBudget(budget, now: now)
        let generation = store.generation
        guard let stored = store.budget(id: budget.id) else { throw BudgetStoreError.noSuchBudget(budget.id) }
        let status = try status(of: stored, now: now)
        if change != .unchanged {
            checkAlerts(budget, status)
            notify(BudgetUpdate(cause: .budgetSet, statuses: [status], removedBudgetIDs: [], generation: generation))
        }
        return (change, status)
    }

    /// Removes a budget; false if there was none.
    public func removeBudget(id: String) throws -> Bool {
        guard try store.removeBudget(id: id) else { return false }
        lock.withLock { fired = fired.filter { $0.budgetID != id } }
        leases?.removed(budgetID: id)
        notify(BudgetUpdate(cause: .budgetRemoved, statuses: [], removedBudgetIDs: [id], generation: store.generation))
        return true
    }

    /// Records an exemption and returns the budget's new status.
    @discardableResult
    public func addExemption(_ exemption: BudgetExemption) throws -> BudgetStatus {
        try store.addExemption(exemption)
        let generation = store.generation
        guard let stored = store.budget(id: exemption.budgetID) else { throw BudgetStoreError.noSuchBudget(exemption.budgetID) }
        let status = try status(of: stored, now: now)
        checkAlerts(stored.budget, status)
        notify(BudgetUpdate(cause: .exemption, statuses: [status], removedBudgetIDs: [], generation: generation))
        return status
    }

    /// The window containing `now` for the budget's period and zone. Calendar arithmetic
    /// costs microseconds and every committed batch asks for every budget it touched, so
    /// the answer is kept until `now` leaves it.
    private func currentWindow(of budget: Budget, now: Int64) -> BudgetWindow {
        let key = WindowKey(period: budget.period, timeZone: budget.timeZone)
        if let window = lock.withLock({ currentWindows[key] }), window.start <= now, now < window.end { return window }
        let window = budget.period.window(containing: now, timeZone: budget.zone)
        lock.withLock { currentWindows[key] = window }
        return window
    }

    private func status(of stored: StoredBudget, now: Int64) throws -> BudgetStatus {
        let window = currentWindow(of: stored.budget, now: now)
        let spent = try store.spent(budgetID: stored.budget.id, windowStart: window.start)
        var status = BudgetStatus.evaluate(budget: stored.budget, exemptions: stored.exemptions, spent: spent, window: window, now: now)
        leases?.annotate(&status)
        return status
    }

    /// Fires every level `status` has reached that has not fired in this window yet.
    private func checkAlerts(_ budget: Budget, _ status: BudgetStatus) {
        for level in BudgetStatus.crossedLevels(budget: budget, effectiveLimit: status.effectiveLimit, spent: status.spent) {
            let mark = AlertMark(budgetID: budget.id, windowStart: status.windowStart, level: level)
            if lock.withLock({ fired.contains(mark) }) { continue }
            let first: Bool
            do {
                first = try store.markAlertFired(budgetID: budget.id, windowStart: status.windowStart, level: level, at: status.asOf)
            } catch {
                alerts.markFailed(budgetID: budget.id, error: error)
                continue
            }
            lock.withLock {
                if fired.count > 100_000 { fired.removeAll() }
                fired.insert(mark)
            }
            if first {
                alerts.fire(BudgetAlert(level: level, status: status, hardCeiling: budget.hardCeilingPercent, firedAt: status.asOf))
            }
        }
    }

    private func notify(_ update: BudgetUpdate) {
        let observers = lock.withLock { self.observers }
        for observer in observers { observer(update) }
    }
}

/// Where fired alerts go: a log line, a metric, and the webhook if one is configured.
public final class BudgetAlerts: Sendable {
    private let metrics: AggregatorMetrics
    private let logger: Logger
    private let webhook: WebhookNotifier?

    public init(metrics: AggregatorMetrics, logger: Logger, webhook: WebhookNotifier? = nil) {
        self.metrics = metrics
        self.logger = logger
        self.webhook = webhook
    }

    func fire(_ alert: BudgetAlert) {
        metrics.budgetAlerts(alert.status.budgetID, String(alert.level)).increment()
        logger.warning("\(alert.text)", metadata: ["budget": "\(alert.status.budgetID)", "level": "\(alert.level)"])
        webhook?.send(alert)
    }

    func markFailed(budgetID: String, error: Error) {
        metrics.budgetAlertErrors.increment()
        logger.error("could not record a budget alert for \(budgetID): \(error)")
    }
}
