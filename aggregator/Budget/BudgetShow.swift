import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

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
        action       \(budget.action.rawValue)\(ceiling)\(budget.mode == .observe ? " (observe: never blocks; --mode enforce to enforce it)" : "")
        thresholds   \(budget.thresholds.map { "\($0)%" }.joined(separator: ", "))
        owner        \(budget.owner.isEmpty ? "-" : budget.owner)
        window       \(Self.time(status.windowStart)) → \(Self.time(status.windowEnd))
        spent        \(budget.unit.format(status.spent)) of \(budget.unit.format(status.effectiveLimit))\(status.effectiveLimit != budget.limit ? " (raised by an exemption)" : "") — \(String(format: "%.1f", status.percentUsed))%, \(BudgetTable.state(status, wouldBlock: view.wouldBlock))
        """)
        print("forecast     \(Self.forecast(status))")
        print("overshoot    \(Self.overshoot(status))")
        let exemptions = view.exemptions ?? []
        print(exemptions.isEmpty ? "exemptions   none" : "exemptions")
        for exemption in exemptions {
            let active = exemption.isActive(at: status.asOf) ? " (active)" : ""
            print("  \(budget.unit.format(exemption.limit)) from \(Self.time(exemption.from)) until \(Self.time(exemption.until))\(active), by \(exemption.author) at \(Self.time(exemption.createdAt)): \(exemption.reason)")
        }
    }

    /// Spend at the window's end and when it reaches the limit, at the window's average burn rate.
    static func forecast(_ status: BudgetStatus) -> String {
        let forecast = BudgetForecast(status)
        let unit = status.unit
        let end = "\(unit.format(forecast.atWindowEnd)) by the window's end at \(unit.format(forecast.burnPerHour)) an hour"
        if forecast.exhausted { return end + "; the limit is reached" }
        guard let at = forecast.runsOutAt else { return end + "; stays under the limit" }
        return end + "; reaches the limit at \(time(at)) (\(BudgetTable.runsOut(forecast, now: status.asOf)))"
    }

    /// The published bound on how far the fleet can spend past the block line, and why.
    static func overshoot(_ status: BudgetStatus) -> String {
        guard status.blockAt != nil else { return "- (this budget never blocks)" }
        guard let bound = status.overshootBound else { return "- (no spend seen yet to bound it by)" }
        let amount = status.unit.format(bound)
        if status.leased {
            return "at most \(amount) past the block line — leased: each host admits only within its slice of what remains (worst case reserved)"
        }
        return "at most \(amount) past the block line at the current burn rate (what the fleet spends before a block reaches every host; leases take over near the limit when on)"
    }

    static func time(_ unix: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }
}
