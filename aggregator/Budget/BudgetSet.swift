import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct BudgetSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Create or replace a budget.",
        discussion: """
        Replaces the whole definition: options left out take their defaults. When the
        selector, unit, window or time zone change (or the budget is new), the current
        window's spend is recounted from stored usage, so the status is right at once.

        Examples:
          tollgate budget set ml-daily --selector team=ml --limit 100usd --window day --tz Europe/Paris --owner alice@example.com
          tollgate budget set ci-tokens --selector env=ci --limit 2Mtokens --window hour --action alert --hard-ceiling 150
          tollgate budget set org-monthly --selector '*' --limit 20000usd --window month --thresholds 50,80,95
          tollgate budget set gpt41-daily --selector model=gpt-4.1 --limit 50usd --window day

        model= means the canonical model: the price catalog's id, an alias or a dated
        snapshot (gpt-4.1-2025-04-14) all name gpt-4.1 and count the same calls, and the
        budget is stored under the id. A model the catalog does not know is refused with
        the list of known ones. served_model= and requested_model= match names exactly as
        the provider returned them or the request spelled them.

        --mode observe watches a cap before enforcing it: agents never refuse anything for
        the budget, and count each request it would have refused; `tollgate budget list`
        shows the sum over the fleet for the current window, e.g. "observe (would have
        refused 37)". Switch it on with the same command and --mode enforce: the spend
        counted so far stays, and the next request over the limit is refused.
          tollgate budget set trial --selector team=ml --limit 5usd --window day --mode observe
        """)

    @Argument(help: "Budget id: a-z, 0-9, '.', '_', '-'.")
    var id: String

    @Option(help: "Which usage counts: * or dimension=value pairs, e.g. team=ml,env=ci.")
    var selector: String

    @Option(help: "Limit with its unit: 100usd, 2000000tokens (or 2Mtokens), 5000requests.")
    var limit: String

    @Option(help: "Window: minute, hour, day, week or month.")
    var window: String

    @Option(help: "IANA time zone the window aligns to.")
    var tz: String = "UTC"

    @Option(help: "Soft alert thresholds in percent, comma-separated.")
    var thresholds: String = "50,75,90"

    @Option(help: "At the limit: block or alert.")
    var action: String = "block"

    @Option(help: "Block at this percent of the limit (> 100) instead of at the limit, with either action.")
    var hardCeiling: Int?

    @Option(help: "enforce, or observe: never block, count on the agents what it would have refused.")
    var mode: String = "enforce"

    @Option(help: "Who to ask for more (shown to engineers the budget blocks).")
    var owner: String = ""

    @Option(help: "What the budget is for.")
    var description: String = ""

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func makeBudget() throws -> Budget {
        let selector: BudgetSelector
        let amount: BudgetAmount
        do {
            selector = try BudgetSelector(parsing: self.selector)
            amount = try BudgetAmount(parsing: limit)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let period = BudgetPeriod(rawValue: window) else {
            throw ValidationError("--window '\(window)': expected one of \(BudgetPeriod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let action = BudgetAction(rawValue: self.action) else {
            throw ValidationError("--action '\(self.action)': expected block or alert")
        }
        guard let mode = BudgetMode(rawValue: self.mode) else {
            throw ValidationError("--mode '\(self.mode)': expected enforce or observe")
        }
        let levels = thresholds.isEmpty ? [] : thresholds.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard levels.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--thresholds '\(thresholds)': expected percentages joined by commas, e.g. 50,75,90")
        }
        var budget = Budget(id: id, selector: selector, unit: amount.unit, limit: amount.value, period: period, timeZone: tz,
                            thresholds: levels.compactMap { $0 }, action: action, hardCeilingPercent: hardCeiling,
                            owner: owner, description: description)
        budget.mode = mode
        do {
            try budget.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        return budget
    }

    func run() async throws {
        let budget = try makeBudget()
        let encoder = JSONEncoder()
        let data = try await api.send("PUT", "/v1/budgets/\(budget.id)", body: try encoder.encode(budget), token: try auth.token(), actor: who.actor)
        let view = try JSONDecoder().decode(BudgetView.self, from: data)
        switch format {
        case .json: try printJSON(view)
        case .table:
            print("budget \(view.budget.id): \(view.change ?? "saved")")
            print(BudgetTable(statuses: [view.status], wouldBlock: [view.wouldBlock]).render())
        }
    }
}
