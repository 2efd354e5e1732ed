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

        Budget commands need the aggregator's API token (--token-file or TOLLGATE_TOKEN).
        """,
        subcommands: [BudgetSet.self, BudgetList.self, BudgetShow.self, BudgetRemove.self, BudgetExempt.self])
}

/// One budget and its status, as `GET /v1/budgets[/id]` answers.
struct BudgetView: Codable {
    var budget: Budget
    var status: BudgetStatus
    var exemptions: [BudgetExemption]?
    var change: String?
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json }

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `--until`/`--from`: an ISO 8601 time (2026-11-24T00:00:00Z), a Unix time, or a duration from now (+24h).
enum TimeArgument {
    static func parse(_ text: String, option: String, now: Date) throws -> Int64 {
        if text.hasPrefix("+") {
            let units: [Character: Int64] = ["m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
            if let unit = text.last, let seconds = units[unit], let count = Int64(text.dropFirst().dropLast()), count >= 0 {
                return Int64(now.timeIntervalSince1970) + count * seconds
            }
        } else if let unix = Int64(text) {
            return unix
        } else if let date = ISO8601DateFormatter().date(from: text) {
            return Int64(date.timeIntervalSince1970)
        }
        throw ValidationError("\(option) '\(text)': expected an ISO 8601 time like 2026-11-24T00:00:00Z, a Unix time, or +24h / +7d from now")
    }
}
