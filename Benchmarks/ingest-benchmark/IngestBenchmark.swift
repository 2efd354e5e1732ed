import Foundation
import Logging
import TollgateAggregator
import TollgateCore
import TollgateWire

/// Ingest rate of `UsageStore.apply` (one synced RocksDB WriteBatch per batch, as the
/// ingest thread commits them), with no budgets and with 20 budgets active (their spend
/// counted in the same WriteBatch, then `BudgetBoard.didCommit`: statuses, alert checks).
/// Runs alternate between the two setups, each on a fresh temp dir; prints medians and the
/// ratio. Run in release:
///
///     swift run -c release ingest-benchmark [--batches N] [--cells C] [--runs R] [--budgets B]
@main
struct IngestBenchmark {
    struct Options {
        var batches = 300
        var cells = 1_000
        var runs = 5
        var budgets = 20

        init(_ arguments: ArraySlice<String>) {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                let value = iterator.next().flatMap(Int.init) ?? 0
                switch flag {
                case "--batches": batches = max(1, value)
                case "--cells": cells = max(1, value)
                case "--runs": runs = max(1, value)
                case "--budgets": budgets = max(1, value)
                default: FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8)); exit(64)
                }
            }
        }
    }

    static let teams = ["ml", "web", "data", "infra", "search", "ads", "mobile", "platform"]
    static let environments = ["ci", "prod", "staging"]
    static let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-pro"]
    static let zones = ["UTC", "Europe/Paris", "America/New_York"]
    static let periods: [BudgetPeriod] = [.day, .hour, .week, .month]

    static func main() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .critical
            return handler
        }
        let options = Options(CommandLine.arguments.dropFirst())
        let batches = makeBatches(options)
        print("applying \(options.batches) batches × \(options.cells) cells (\(teams.count) teams × \(environments.count) envs × \(models.count) models × keys, 20 agents), \(options.runs) runs per setup")
        var baseline: [Double] = []
        var withBudgets: [Double] = []
        for run in 1...options.runs {
            baseline.append(try runOnce(batches, budgets: 0, options: options))
            withBudgets.append(try runOnce(batches, budgets: options.budgets, options: options))
            print(String(format: "  run %d: %.0f cells/s without budgets, %.0f cells/s with %d budgets", run, baseline.last!, withBudgets.last!, options.budgets))
        }
        let base = median(baseline)
        let budgeted = median(withBudgets)
        print(String(format: "median: %.0f cells/s without budgets, %.0f cells/s with %d budgets (ratio %.2f)", base, budgeted, options.budgets, budgeted / base))
    }

    /// Cells as agents send them: each of 20 agents ships batches of distinct (key, model, …)
    /// cells, two minutes per batch, minutes advancing through the day.
    static func makeBatches(_ options: Options) -> [UsageBatchMessage] {
        var random = SystemRandomNumberGenerator()
        var seqs: [String: UInt64] = [:]
        let startMinute = Int64(Date().timeIntervalSince1970) / 60 - Int64(options.batches / 10)
        return (0..<options.batches).map { index in
            let agent = "agent-\(index % 20)"
            seqs[agent, default: 0] += 1
            let minute = startMinute + Int64(index / 10)
            let cells = (0..<options.cells).map { cellIndex -> Cell in
                var dimensions = Dimensions()
                dimensions.keyID = "key-\(cellIndex % 250)"
                dimensions.keyHint = "sk-…\(cellIndex % 250)"
                dimensions.provider = "openai"
                dimensions.model = models[cellIndex % models.count]
                dimensions.team = teams[(cellIndex / 4) % teams.count]
                dimensions.environment = environments[(cellIndex / 32) % environments.count]
                dimensions.project = "project-\(cellIndex % 17)"
                dimensions.host = agent
                var counters = UsageCounters()
                counters.requests = Int64.random(in: 1...20, using: &random)
                counters.tokens = TokenUsage(input: counters.requests * 800, cachedInput: counters.requests * 200, output: counters.requests * 150)
                counters.cost = Nanodollars(counters.requests * 2_500_000)
                return Cell(key: CellKey(minute: minute + Int64(cellIndex % 2), dimensions: dimensions), counters: counters)
            }
            return UsageBatchMessage(agentID: agent, seq: seqs[agent]!, floorSeq: 0, cells: cells)
        }
    }

    /// 20 budgets mixing selectors (one to three pairs, and the whole org), units, periods and zones.
    static func makeBudgets(_ count: Int) throws -> [Budget] {
        try (0..<count).map { index in
            let selector: String = switch index % 5 {
            case 0: "team=\(teams[index % teams.count])"
            case 1: "team=\(teams[index % teams.count]),env=\(environments[index % environments.count])"
            case 2: "model=\(models[index % models.count])"
            case 3: "env=\(environments[index % environments.count]),model=\(models[index % models.count]),team=\(teams[index % teams.count])"
            default: "*"
            }
            let unit = BudgetUnit.allCases[index % 3]
            return Budget(id: "budget-\(index)", selector: try BudgetSelector(parsing: selector), unit: unit,
                          limit: unit == .usd ? 1_000 * Nanodollars.perDollar : 1_000_000_000, period: periods[index % periods.count],
                          timeZone: zones[index % zones.count])
        }
    }

    static func runOnce(_ batches: [UsageBatchMessage], budgets count: Int, options: Options) throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try UsageStore(directory: directory)
        let board = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: MetricsRegistry(), logger: Logger(label: "bench")))
        let now = Int64(Date().timeIntervalSince1970)
        if count > 0 {
            for budget in try makeBudgets(count) { _ = try store.setBudget(budget, now: now) }
        }
        var spend: [BudgetSpend] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for batch in batches {
            guard try store.apply(batch, budgetSpend: &spend) == .applied else { fatalError("batch \(batch.seq) of \(batch.agentID) not applied") }
            board.didCommit(spend)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(batches.count * options.cells) / seconds
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
