import TollgateCore

/// `tollgate_budget_{spent,limit,remaining,forecast}{budget,unit}` and
/// `tollgate_budget_exhaustion_seconds{budget}`: every budget in its current window,
/// computed from the statuses when `/metrics` is scraped, so a removed budget's series
/// disappear with it and a window's reset shows at once.
///
/// Values are in the budget's unit: dollars (exact decimals) for `usd`, tokens, requests.
/// `limit` is the effective limit (raised by active exemptions); `remaining` is what is
/// left below it (0 past it); `forecast` is spend at the window's end at the window's
/// average burn rate (`BudgetForecast`). `exhaustion_seconds` is how long until spend
/// reaches the limit at that rate, 0 once it has, and absent when it will not before the
/// window ends.
enum BudgetGauges {
    static func exposition(_ statuses: [BudgetStatus]) -> String {
        let statuses = statuses.sorted { $0.budgetID < $1.budgetID }
        var text = PrometheusText()
        func gauge(_ name: String, _ help: String, _ value: (BudgetStatus) -> Int64) {
            text.family(name, type: "gauge", help: help)
            for status in statuses {
                text.sample(name, [("budget", status.budgetID), ("unit", status.unit.rawValue)], decimal: amount(value(status), status.unit))
            }
        }
        gauge("tollgate_budget_spent", "Spend in the budget's current window, in its unit (usd: dollars).") { $0.spent }
        gauge("tollgate_budget_limit", "The budget's effective limit (raised by active exemptions), in its unit (usd: dollars).") { $0.effectiveLimit }
        gauge("tollgate_budget_remaining", "What is left below the effective limit in the current window (0 past it), in the budget's unit.") {
            max(0, $0.effectiveLimit - $0.spent)
        }
        gauge("tollgate_budget_forecast", "Spend expected at the current window's end at the window's average burn rate so far, in the budget's unit.") {
            BudgetForecast($0).atWindowEnd
        }
        text.family("tollgate_budget_exhaustion_seconds", type: "gauge",
                    help: "Seconds until the budget reaches its effective limit at the window's average burn rate (0: reached); absent when it will not before the window ends.")
        for status in statuses {
            guard let runsOutAt = BudgetForecast(status).runsOutAt else { continue }
            text.sample("tollgate_budget_exhaustion_seconds", [("budget", status.budgetID)], decimal: String(max(0, runsOutAt - status.asOf)))
        }
        return text.text
    }

    /// Dollars as an exact decimal for `usd`; the integer itself otherwise.
    static func amount(_ value: Int64, _ unit: BudgetUnit) -> String {
        unit == .usd ? Nanodollars(value).decimalUSD : String(value)
    }
}
