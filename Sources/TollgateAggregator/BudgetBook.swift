import Foundation
import TollgateCore

/// A budget as the store keeps it: the definition and its exemptions (the audit trail).
public struct StoredBudget: Hashable, Sendable {
    public var budget: Budget
    /// Oldest first; includes expired ones.
    public var exemptions: [BudgetExemption]

    public init(budget: Budget, exemptions: [BudgetExemption]) {
        self.budget = budget
        self.exemptions = exemptions
    }
}

/// What one committed batch added to one budget's window.
public struct BudgetSpend: Hashable, Sendable {
    public var budgetID: String
    public var window: BudgetWindow
    /// Added by this batch.
    public var added: Int64
    /// The window's total after the batch.
    public var spent: Int64
}

/// Maps a cell's minute to the start of its window for one (period, zone), memoised:
/// calendar arithmetic costs microseconds, and a batch's cells share a handful of minutes.
/// Used only by the writer (under the store's writer lock).
final class WindowRule: @unchecked Sendable {
    let period: BudgetPeriod
    let zone: TimeZone
    private var lastMinute = Int64.min
    private var lastWindow = BudgetWindow(start: 0, end: 0)
    private var cache: [Int64: BudgetWindow] = [:]

    init(period: BudgetPeriod, zone: TimeZone) {
        self.period = period
        self.zone = zone
    }

    @inline(__always)
    func window(minute: Int64) -> BudgetWindow {
        if minute == lastMinute { return lastWindow }
        let window: BudgetWindow
        if let cached = cache[minute] {
            window = cached
        } else {
            // Bounded: a replay of a long outage touches many minutes once each.
            if cache.count >= 16_384 { cache.removeAll(keepingCapacity: true) }
            window = period.window(containing: minute &* 60, timeZone: zone)
            cache[minute] = window
        }
        lastMinute = minute
        lastWindow = window
        return window
    }
}

/// The budgets the ingest loop adds spend to, compiled for speed: the selector and unit
/// inline, the window rule shared by every budget with the same period and zone.
struct ActiveBudget {
    var id: String
    var selector: BudgetSelector
    var unit: BudgetUnit
    var rule: WindowRule
}

/// Sums a batch's spend per (budget, window) before anything touches RocksDB.
struct BudgetSpendTally {
    private struct Slot: Hashable {
        var budget: Int
        var windowStart: Int64
    }

    private var amounts: [Slot: (window: BudgetWindow, amount: Int64)] = [:]

    var isEmpty: Bool { amounts.isEmpty }

    /// Called for every cell: no allocation once the dictionary has grown to the batch's slots.
    @inline(__always)
    mutating func add(_ counters: UsageCounters, minute: Int64, dimensions: Dimensions, budgets: [ActiveBudget]) {
        for index in budgets.indices where budgets[index].selector.matches(dimensions) {
            let budget = budgets[index]
            let window = budget.rule.window(minute: minute)
            let amount = budget.unit.amount(of: counters)
            let slot = Slot(budget: index, windowStart: window.start)
            if let existing = amounts[slot] {
                amounts[slot] = (window, existing.amount &+ amount)
            } else {
                amounts[slot] = (window, amount)
            }
        }
    }

    /// (budget index, window, amount) for every slot, ordered for deterministic writes.
    var entries: [(budget: Int, window: BudgetWindow, amount: Int64)] {
        amounts.map { ($0.key.budget, $0.value.window, $0.value.amount) }
            .sorted { ($0.budget, $0.window.start) < ($1.budget, $1.window.start) }
    }
}
