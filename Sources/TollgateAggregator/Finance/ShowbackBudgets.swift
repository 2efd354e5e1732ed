import TollgateCore

/// Which budget a showback row is compared with, and its limit over a month.
enum ShowbackBudgets {
    /// A budget's limit over `month`: a month budget as it is; shorter periods times how
    /// many fit in the month (a day budget × the month's days, a week budget × days / 7,
    /// rounded half-up, an hour budget × 24 × days, a minute budget × 1,440 × days). The
    /// month is UTC: a budget kept in another time zone is scaled as if it were UTC.
    static func monthly(_ budget: Budget, month: ReportMonth) -> Int64 {
        let days = Int128(month.days)
        let limit = Int128(budget.limit)
        let scaled: Int128 = switch budget.period {
        case .month: limit
        case .week: (limit * days * 2 + 7) / 14
        case .day: limit * days
        case .hour: limit * days * 24
        case .minute: limit * days * 1_440
        }
        return Int64(clamping: scaled)
    }

    /// The USD budgets whose selector is exactly `dimension=value` (`*` when `value` is
    /// nil), the tightest over the month first. Token and request budgets are not money and
    /// are left out.
    static func matching(_ budgets: [Budget], dimension: UsageDimension, value: String?, month: ReportMonth) -> Budget? {
        budgets
            .filter { budget in
                guard budget.unit == .usd else { return false }
                guard let value else { return budget.selector.isAll }
                return budget.selector.conditions == [BudgetSelector.Condition(dimension, value)]
            }
            .min { a, b in
                let (x, y) = (monthly(a, month: month), monthly(b, month: month))
                return x != y ? x < y : a.id < b.id
            }
    }

    static func view(_ budget: Budget, spend: Int64, month: ReportMonth) -> ShowbackBudget {
        let limit = monthly(budget, month: month)
        return ShowbackBudget(id: budget.id, period: budget.period, limitNanousd: budget.limit, monthLimitNanousd: limit,
                              varianceNanousd: spend - limit, usedPercent: ShowbackBuilder.percent(spend, of: limit) ?? 0)
    }
}
