import Foundation
import TollgateCore
import TollgateWire

/// Sums a batch's spend per (budget, window) before anything touches RocksDB.
///
/// Matching runs for every cell against every budget, on the cell's bytes as received
/// (`RawCell`), so it is compiled: for each dimension some selector tests, the distinct
/// values selectors ask for, each with the set of budgets it satisfies. A cell then costs
/// one byte comparison per distinct value and a few bit operations, however many budgets
/// there are (sets are 64-bit masks; beyond 64 budgets each selector is matched in turn).
struct BudgetSpendTally {
    /// One dimension some selector tests.
    private struct Test {
        var field: Int
        var values: [[UInt8]]
        /// `masks[i]`: the budgets whose condition on `field` is `values[i]`.
        var masks: [UInt64]
        /// Budgets with no condition on `field`.
        var unconstrained: UInt64
    }

    private let budgets: [ActiveBudget]
    /// Each budget's conditions as (stored field index, UTF-8 value).
    private let conditions: [[(field: Int, value: [UInt8])]]
    private let tests: [Test]
    private let everyone: UInt64
    /// Per budget: (minute, amount) pairs; a batch spans a minute or two.
    private var spend: [[(minute: Int64, amount: Int64)]]

    init(budgets: [ActiveBudget]) {
        self.budgets = budgets
        spend = Array(repeating: [], count: budgets.count)
        conditions = budgets.map { budget in
            budget.selector.conditions.map { (Dimensions.storedIndex(of: $0.dimension), Array($0.value.utf8)) }
        }
        everyone = budgets.count >= 64 ? UInt64.max : (UInt64(1) << UInt64(budgets.count)) - 1
        var tests: [Test] = []
        if budgets.count <= 64 {
            for (index, budgetConditions) in conditions.enumerated() {
                let bit = UInt64(1) << UInt64(index)
                for (field, value) in budgetConditions {
                    let at = tests.firstIndex { $0.field == field } ?? {
                        tests.append(Test(field: field, values: [], masks: [], unconstrained: 0))
                        return tests.count - 1
                    }()
                    if let existing = tests[at].values.firstIndex(of: value) {
                        tests[at].masks[existing] |= bit
                    } else {
                        tests[at].values.append(value)
                        tests[at].masks.append(bit)
                    }
                }
            }
            for at in tests.indices {
                tests[at].unconstrained = everyone & ~tests[at].masks.reduce(0, |)
            }
        }
        self.tests = tests
    }

    /// Called for every cell; allocates only for a budget's first minute in the batch.
    @inline(__always)
    mutating func add(_ cell: RawCell) {
        guard !budgets.isEmpty else { return }
        guard budgets.count <= 64 else {
            for index in budgets.indices {
                var matches = true
                for (field, value) in conditions[index] where !Self.equal(cell.dimensions[field], value) {
                    matches = false
                    break
                }
                if matches { add(budgets[index].unit.amount(of: cell.counters), budget: index, minute: cell.minute) }
            }
            return
        }
        var matching = everyone
        for test in tests.indices {
            var satisfied = tests[test].unconstrained
            let field = cell.dimensions[tests[test].field]
            for value in tests[test].values.indices where Self.equal(field, tests[test].values[value]) {
                satisfied |= tests[test].masks[value]
                break
            }
            matching &= satisfied
        }
        while matching != 0 {
            let index = matching.trailingZeroBitCount
            matching &= matching - 1
            add(budgets[index].unit.amount(of: cell.counters), budget: index, minute: cell.minute)
        }
    }

    @inline(__always)
    private static func equal(_ field: UnsafeRawBufferPointer, _ value: [UInt8]) -> Bool {
        guard field.count == value.count else { return false }
        return value.withUnsafeBytes { value in value.count == 0 || memcmp(field.baseAddress!, value.baseAddress!, value.count) == 0 }
    }

    @inline(__always)
    private mutating func add(_ amount: Int64, budget: Int, minute: Int64) {
        if let slot = spend[budget].firstIndex(where: { $0.minute == minute }) {
            spend[budget][slot].amount &+= amount
        } else {
            spend[budget].append((minute, amount))
        }
    }

    /// (budget index, window, amount) for every budget and window the batch added to,
    /// ordered for deterministic writes. Call with the store's writer lock held (window rules).
    var entries: [(budget: Int, window: BudgetWindow, amount: Int64)] {
        budgets.indices.flatMap { budget in
            var windows: [(window: BudgetWindow, amount: Int64)] = []
            for (minute, amount) in spend[budget] {
                let window = budgets[budget].rule.window(minute: minute)
                if let slot = windows.firstIndex(where: { $0.window == window }) {
                    windows[slot].amount &+= amount
                } else {
                    windows.append((window, amount))
                }
            }
            return windows.sorted { $0.window.start < $1.window.start }.map { (budget, $0.window, $0.amount) }
        }
    }
}
