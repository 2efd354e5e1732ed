import Foundation
import TollgateAggregator
import TollgateCore
import TollgateWire

/// `--budget-changes N`: what a budget change costs while ingest fills the memtable. The
/// store holds the batches just ingested (not flushed, as a busy aggregator's memtable is)
/// and 20 budgets; then N times one budget is retargeted (a new selector: its window is
/// recounted) and one removed and set again. Each change holds the store's writer lock,
/// so its time is also how long it holds every commit back. Prints the median and the
/// slowest of each kind, in milliseconds.
enum BudgetChanges {
    static func run(_ frames: [[Data]], cellsPerBatch: Int, changes: Int, budgets count: Int) throws {
        let (store, _, directory) = try IngestBenchmark.makeStore(budgets: count)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for batch in frames {
            var spend: [BudgetSpend] = []
            guard try store.commit(try store.prepare(try UsageBatchCodec.decodeRaw(batch)), budgetSpend: &spend) == .applied else {
                fatalError("a batch was not applied")
            }
        }
        let now = Int64(Date().timeIntervalSince1970)
        let budgets = try IngestBenchmark.makeBudgets(count)
        var retargets: [Double] = []
        var replacements: [Double] = []
        for change in 0..<changes {
            var budget = budgets[change % count]
            budget.selector = try BudgetSelector(parsing: "team=\(IngestBenchmark.teams[(change + 1) % IngestBenchmark.teams.count]),project=project-\(change % 17)")
            retargets.append(try milliseconds {
                guard case .updated(recomputed: true) = try store.setBudget(budget, now: now) else { fatalError("budget not recounted") }
            })
            replacements.append(try milliseconds {
                guard try store.removeBudget(id: budget.id), try store.setBudget(budget, now: now) == .created else { fatalError("budget not replaced") }
            })
            // Back to its first selector, so the next round retargets it again.
            _ = try store.setBudget(budgets[change % count], now: now)
        }
        print(String(format: "budget changes with %d cells in the memtable: retarget median %.1f ms (slowest %.1f), remove and set again median %.1f ms (slowest %.1f), %d of each",
                     frames.count * cellsPerBatch, IngestBenchmark.median(retargets), retargets.max() ?? 0,
                     IngestBenchmark.median(replacements), replacements.max() ?? 0, changes))
    }

    static func milliseconds(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }
}
