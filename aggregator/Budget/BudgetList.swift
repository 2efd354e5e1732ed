import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct BudgetList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Every budget with its spend in the current window.",
        discussion: """
        STATE is ok, warning (a soft threshold reached), over_limit (the limit reached on an
        alert-only budget) or blocked (agents refuse what the budget covers until the
        window ends). A budget in observe mode blocks nothing and shows what it would have
        done instead: "observe (would have refused 37)", the requests it would have refused
        in its current window, summed over every agent's latest report. JSON gives
        {budget, status, would_block} per budget.

        FORECAST is the spend expected when the window ends and RUNS OUT when spend
        reaches the limit, both at the window's average burn rate so far (spent / time
        elapsed): "in 3h12m", "reached", or "-" when it will not before the window ends.
        JSON gives them under status.forecast (at_window_end, burn_per_hour, runs_out_at
        in Unix seconds, exhausted). Which teams are over budget, or will be by the end of
        the window: the rows whose RUNS OUT is not "-".
        """)

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let data = try await api.send("GET", "/v1/budgets", token: try auth.token())
        let views = try JSONDecoder().decode([BudgetView].self, from: data)
        switch format {
        case .json: try printJSON(views)
        case .table:
            let table = BudgetTable(statuses: views.map(\.status), zones: views.map(\.budget.timeZone), wouldBlock: views.map(\.wouldBlock))
            print(views.isEmpty ? "no budgets; create one with `tollgate budget set`" : table.render())
        }
    }
}
