import ArgumentParser
import Foundation
import TollgateCore

struct BudgetList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Every budget with its spend in the current window.",
        discussion: """
        STATE is ok, warning (a soft threshold reached), over_limit (the limit reached on an
        alert-only budget) or blocked (agents refuse what the budget covers until the
        window ends). JSON gives {budget, status} per budget.
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
        case .table: print(views.isEmpty ? "no budgets; create one with `tollgate budget set`" : BudgetTable(statuses: views.map(\.status), zones: views.map(\.budget.timeZone)).render())
        }
    }
}

struct BudgetShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One budget: definition, current window, and every exemption ever granted.")

    @Argument(help: "Budget id.")
    var id: String

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let data = try await api.send("GET", "/v1/budgets/\(id)", token: try auth.token())
        let view = try JSONDecoder().decode(BudgetView.self, from: data)
        guard format == .table else { return try printJSON(view) }
        let budget = view.budget
        let status = view.status
        let ceiling = budget.hardCeilingPercent.map { ", blocks at \($0)%" } ?? ""
        print("""
        budget       \(budget.id)\(budget.description.isEmpty ? "" : " — \(budget.description)")
        selector     \(budget.selector)
        limit        \(budget.unit.format(budget.limit)) per \(budget.period.rawValue) (\(budget.timeZone))
        action       \(budget.action.rawValue)\(ceiling)
        thresholds   \(budget.thresholds.map { "\($0)%" }.joined(separator: ", "))
        owner        \(budget.owner.isEmpty ? "-" : budget.owner)
        window       \(Self.time(status.windowStart)) → \(Self.time(status.windowEnd))
        spent        \(budget.unit.format(status.spent)) of \(budget.unit.format(status.effectiveLimit))\(status.effectiveLimit != budget.limit ? " (raised by an exemption)" : "") — \(String(format: "%.1f", status.percentUsed))%, \(BudgetTable.state(status))
        """)
        let exemptions = view.exemptions ?? []
        print(exemptions.isEmpty ? "exemptions   none" : "exemptions")
        for exemption in exemptions {
            let active = exemption.isActive(at: status.asOf) ? " (active)" : ""
            print("  \(budget.unit.format(exemption.limit)) from \(Self.time(exemption.from)) until \(Self.time(exemption.until))\(active), by \(exemption.author) at \(Self.time(exemption.createdAt)): \(exemption.reason)")
        }
    }

    static func time(_ unix: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }
}

struct BudgetRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a budget. Its exemptions stay on record (audit trail).")

    @Argument(help: "Budget id.")
    var id: String

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        _ = try await api.send("DELETE", "/v1/budgets/\(id)", token: try auth.token())
        print("removed budget \(id)")
    }
}

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

    @Option(help: "Until when: ISO 8601 (2026-11-24T00:00:00Z), a Unix time, or +24h from now.")
    var until: String

    @Option(help: "From when (default: now).")
    var from: String?

    @Option(help: "Why the limit is raised.")
    var reason: String

    @Option(help: "Who raised it (default: $USER).")
    var author: String?

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    struct Body: Encodable {
        var limit: Int64
        var from: Int64?
        var until: Int64
        var reason: String
        var author: String
    }

    func run() async throws {
        let amount: BudgetAmount
        do {
            amount = try BudgetAmount(parsing: limit)
        } catch {
            throw ValidationError("--limit: \(error)")
        }
        let now = Date()
        let body = Body(limit: amount.value, from: try from.map { try TimeArgument.parse($0, option: "--from", now: now) },
                        until: try TimeArgument.parse(until, option: "--until", now: now), reason: reason,
                        author: author ?? ProcessInfo.processInfo.environment["USER"] ?? "")
        let token = try auth.token()
        let current = try JSONDecoder().decode(BudgetView.self, from: try await api.send("GET", "/v1/budgets/\(id)", token: token))
        guard current.budget.unit == amount.unit else {
            throw ValidationError("--limit \(limit) is in \(amount.unit.rawValue), but budget \(id) counts \(current.budget.unit.rawValue)")
        }
        _ = try await api.send("POST", "/v1/budgets/\(id)/exemptions", body: try JSONEncoder().encode(body), token: token)
        print("budget \(id): limit raised to \(amount.unit.format(amount.value)) until \(BudgetShow.time(body.until))")
    }
}
