import Foundation
import TollgateCore

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
