import TollgateCore

/// Builds a month's showback from the store: one query of the month by the report's
/// dimension, model, use case and day, and one of the month before by the dimension alone.
///
/// Estimated spend: a cell counts how many of its requests were estimated but holds one
/// cost, so the estimated part of each (value, model, use case, day) group's cost is taken
/// in proportion to its requests (cost × estimated / requests, rounded down).
public struct ShowbackBuilder: Sendable {
    public var by: UsageDimension
    public var month: ReportMonth
    /// How many models and use cases each row names.
    public var top = 3

    public init(by: UsageDimension, month: ReportMonth) {
        self.by = by
        self.month = month
    }

    public func build(store: UsageStore, budgets: [Budget]) throws -> ShowbackReport {
        let detail = try store.query(fromMinute: month.startMinute, toMinute: month.endMinute,
                                     groupBy: [by, .model, .useCase], every: .day)
        let previous = try store.query(fromMinute: month.previous.startMinute, toMinute: month.previous.endMinute, groupBy: [by])
        return build(detail: detail, previous: previous, budgets: budgets)
    }

    /// The pure part: `detail` grouped by the dimension, model and use case (any bucketing),
    /// `previous` by the dimension.
    public func build(detail: [UsageGroup], previous: [UsageGroup], budgets: [Budget]) -> ShowbackReport {
        struct Tally {
            var row: ShowbackRow
            var models: [String: Int64] = [:]
            var useCases: [String: Int64] = [:]
        }
        var tallies: [String: Tally] = [:]
        var total = ShowbackRow(value: "TOTAL")
        for group in detail {
            let value = group.dimensions[by]
            var tally = tallies[value] ?? Tally(row: ShowbackRow(value: value))
            let cost = group.counters.cost.value
            let estimated = group.counters.requests > 0
                ? Int64(clamping: Int128(cost) * Int128(min(group.counters.estimated, group.counters.requests)) / Int128(group.counters.requests))
                : 0
            tally.row.requests += group.counters.requests
            tally.row.spendNanousd += cost
            tally.row.estimatedNanousd += estimated
            tally.models[group.dimensions.model, default: 0] += cost
            tally.useCases[group.dimensions.useCase, default: 0] += cost
            tallies[value] = tally
            total.requests += group.counters.requests
            total.spendNanousd += cost
            total.estimatedNanousd += estimated
        }
        for group in previous {
            let value = group.dimensions[by]
            tallies[value, default: Tally(row: ShowbackRow(value: value))].row.previousSpendNanousd += group.counters.cost.value
            total.previousSpendNanousd += group.counters.cost.value
        }
        // A value with a budget and no spend in either month is still shown: it is under budget.
        for budget in budgets where budget.unit == .usd {
            if let condition = budget.selector.conditions.first, budget.selector.conditions.count == 1, condition.dimension == by,
               tallies[condition.value] == nil {
                tallies[condition.value] = Tally(row: ShowbackRow(value: condition.value))
            }
        }
        var rows = tallies.values.map { tally -> ShowbackRow in
            var row = tally.row
            row.topModels = Self.top(tally.models, top)
            row.topUseCases = Self.top(tally.useCases, top)
            row.sharePercent = Self.percent(row.spendNanousd, of: total.spendNanousd) ?? 0
            finish(&row, budget: ShowbackBudgets.matching(budgets, dimension: by, value: row.value, month: month))
            return row
        }
        rows.sort { a, b in a.spendNanousd != b.spendNanousd ? a.spendNanousd > b.spendNanousd : a.value < b.value }
        total.sharePercent = total.spendNanousd > 0 ? 100 : 0
        total.topModels = Self.top(tallies.values.reduce(into: [:]) { sum, tally in sum.merge(tally.models, uniquingKeysWith: +) }, top)
        total.topUseCases = Self.top(tallies.values.reduce(into: [:]) { sum, tally in sum.merge(tally.useCases, uniquingKeysWith: +) }, top)
        finish(&total, budget: ShowbackBudgets.matching(budgets, dimension: by, value: nil, month: month))
        return ShowbackReport(month: month.description, previousMonth: month.previous.description, by: by.rawValue,
                              from: CivilDate.rfc3339(minute: month.startMinute), until: CivilDate.rfc3339(minute: month.endMinute),
                              rows: rows, total: total)
    }

    private func finish(_ row: inout ShowbackRow, budget: Budget?) {
        row.changeNanousd = row.spendNanousd - row.previousSpendNanousd
        row.changePercent = Self.percent(row.changeNanousd, of: row.previousSpendNanousd)
        row.estimatedPercent = Self.percent(row.estimatedNanousd, of: row.spendNanousd) ?? 0
        row.budget = budget.map { ShowbackBudgets.view($0, spend: row.spendNanousd, month: month) }
    }

    /// The `count` largest, ties by name.
    static func top(_ spend: [String: Int64], _ count: Int) -> [ShowbackShare] {
        spend.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }
            .prefix(count)
            .map { ShowbackShare(name: $0.key, spendNanousd: $0.value) }
    }

    /// `part` of `whole` in percent, rounded half away from zero to 0.01 with integer
    /// arithmetic; nil when `whole` is not positive.
    static func percent(_ part: Int64, of whole: Int64) -> Double? {
        guard whole > 0 else { return nil }
        let scaled = Int128(part) * 20_000 / Int128(whole)  // in half basis points
        let basisPoints = scaled >= 0 ? (scaled + 1) / 2 : (scaled - 1) / 2
        return Double(Int64(clamping: basisPoints)) / 100
    }
}
