import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct BudgetExempt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exempt",
        abstract: "Raise a budget's limit for a while, with a reason (kept as an audit trail).",
        discussion: """
        The limit in force is the highest of the budget's own and every active exemption's.
        Exemptions are never edited or deleted; `tollgate budget show` lists them.

        Example:
          tollgate budget exempt ml-daily --limit 200usd --until 2026-11-24T00:00:00Z \\
              --reason "launch eval run" --author alice@example.com
        """)

    @Argument(help: "Budget id.")
    var id: String

    @Option(help: "The raised limit, in the budget's unit: 200usd, 5Mtokens, 10000requests.")
    var limit: String

    @Option(help: "Until when: \(TimeArgument.help).")
    var until: String

    @Option(help: "From when (default: now).")
    var from: String?

    @Option(help: "Why the limit is raised.")
    var reason: String

    @Option(help: "Who raised it (default: $USER).")
    var author: String?

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func run() async throws {
        let amount: BudgetAmount
        do {
            amount = try BudgetAmount(parsing: limit)
        } catch {
            throw ValidationError("--limit: \(error)")
        }
        let now = Date()
        let body = ExemptionRequest(limit: amount.value, from: try from.map { try TimeArgument.parse($0, option: "--from", now: now) },
                        until: try TimeArgument.parse(until, option: "--until", now: now), reason: reason,
                        author: author ?? ProcessInfo.processInfo.environment["USER"] ?? "")
        let token = try auth.token()
        let current = try JSONDecoder().decode(BudgetView.self, from: try await api.send("GET", "/v1/budgets/\(id)", token: token))
        guard current.budget.unit == amount.unit else {
            throw ValidationError("--limit \(limit) is in \(amount.unit.rawValue), but budget \(id) counts \(current.budget.unit.rawValue)")
        }
        _ = try await api.send("POST", "/v1/budgets/\(id)/exemptions", body: try JSONEncoder().encode(body), token: token, actor: who.actor)
        print("budget \(id): limit raised to \(amount.unit.format(amount.value)) until \(BudgetShow.time(body.until))")
    }
}
