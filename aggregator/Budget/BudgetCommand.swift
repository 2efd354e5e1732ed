import ArgumentParser
import Foundation
import TollgateCore

struct BudgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Set, list, show, remove and exempt budgets.",
        discussion: """
        A budget caps spend over a calendar window for the usage its selector matches:
          selector   * (the whole org) or dimension=value pairs that must all match, e.g.
                     team=ml,env=ci (dimensions: \(UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")))
          limit      100usd, 12.50usd, 2000000tokens (input + output), 5000requests
          window     minute, hour, day, week (ISO, from Monday) or month, aligned to the
                     calendar of --tz (UTC by default; a Paris day is 23 or 25 h when clocks change)
          thresholds soft alerts in percent (50,75,90 by default); the limit always alerts
          action     block (agents refuse requests at the limit) or alert (alerts only;
                     with --hard-ceiling 150 agents block at 150 % of the limit)
        Every alert fires once per budget, level and window: a log line, the metric
        tollgate_budget_alerts_total and, if configured, a webhook (alerts.webhook_url).
        Exemptions raise a limit for a while and are kept as an audit trail.

        Budget commands need an aggregator API token (--token-file or TOLLGATE_TOKEN): the
        read-only token lists and shows; set, rm and exempt need the admin token. Every
        change is in the audit log: tollgate budget history <id>.
        """,
        subcommands: [BudgetSet.self, BudgetList.self, BudgetShow.self, BudgetRemove.self, BudgetExempt.self, BudgetSuggest.self, BudgetHistory.self])
}
