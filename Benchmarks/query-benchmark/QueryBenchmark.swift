import Foundation
import Logging
import TollgateAggregator
import TollgateCore
import TollgateWire

/// History that stays fast: loads 90 days of a realistic fleet (`FleetHistory`) into a
/// store through the real ingest path (`prepare`/`commit`, 20 budgets active), building
/// rollups hour by hour as `tollgate serve` does and applying the default retention, then
/// times queries through a real `Aggregator`'s HTTP API (`GET /v1/usage`, what `tollgate
/// usage` sends), p50 of `--runs` each. First, in the same sitting, ingest with and without
/// rollups on the same cells (alternating runs on fresh directories), and the ratio.
///
///     swift run -c release query-benchmark [--days 90] [--rate 40] [--runs 15] [--ingest-days 7] [--ingest-runs 5] [--only NAME]
@main
struct QueryBenchmark {
    struct Options {
        var days = 90
        var rate = 40.0
        var runs = 15
        var ingestDays = 7
        var ingestRuns = 5
        /// Only the queries whose name contains this (for profiling one).
        var only: String?

        init(_ arguments: ArraySlice<String>) {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                if flag == "--only" {
                    only = iterator.next()
                    continue
                }
                let value = iterator.next().flatMap(Double.init) ?? 0
                switch flag {
                case "--days": days = max(2, Int(value))
                case "--rate": rate = max(1, value)
                case "--runs": runs = max(1, Int(value))
                case "--ingest-days": ingestDays = max(1, Int(value))
                case "--ingest-runs": ingestRuns = max(1, Int(value))
                default:
                    FileHandle.standardError.write(Data("unknown option \(flag); expected --days, --rate, --runs, --ingest-days, --ingest-runs, --only\n".utf8))
                    exit(64)
                }
            }
        }
    }

    static func main() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let options = Options(CommandLine.arguments.dropFirst())
        let history = FleetHistory(cellsPerMinute: options.rate, seed: 2026)
        let now = Int64(Date().timeIntervalSince1970)
        let endHour = now / 3_600 * 60
        let startMinute = endHour - Int64(options.days) * 1_440

        // 1. Ingest, with and without rollups, on the first days' cells.
        print("ingest: \(options.ingestDays) days of the fleet, one batch per agent per hour (20 agents), one commit group per hour, 20 budgets; \(options.ingestRuns) alternating runs")
        var random = SplitMix(seed: 1)
        var ingestHours: [[[Data]]] = []
        var ingestCells = 0
        var seqs = [UInt64](repeating: 0, count: 20)
        for hour in 0..<(options.ingestDays * 24) {
            let batches = try hourBatches(history, hourStart: startMinute + Int64(hour) * 60, random: &random, seqs: &seqs)
            ingestCells += batches.cells
            ingestHours.append(batches.frames)
        }
        var rates: [Bool: [Double]] = [:]
        for run in 1...options.ingestRuns {
            for rollups in [false, true] {
                let seconds = try timeIngest(ingestHours, firstMinute: startMinute, rollups: rollups)
                rates[rollups, default: []].append(Double(ingestCells) / seconds)
                print(String(format: "  run %d, %@: %.0f cells/s", run, rollups ? "with rollups   " : "without rollups", Double(ingestCells) / seconds))
            }
        }
        let without = median(rates[false]!), with = median(rates[true]!)
        print(String(format: "  medians: without rollups %.0f cells/s, with rollups %.0f cells/s (%d cells); with / without %.3f",
                     without, with, ingestCells, with / without))

        // 2. The whole history into one store, as a server would have taken it in.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("query-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let loaded = try load(history, into: directory, startMinute: startMinute, days: options.days)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        print(String(format: "loaded %d days: %d minute cells in %.1f s (generating included); %d hour cells, %d day cells built; default retention (minutes 14d, hours 400d) applied",
                     options.days, loaded.cells, loadSeconds, loaded.hourCells, loaded.dayCells))

        // 3. Queries through the HTTP API of a real aggregator on that data directory.
        let aggregator = try Aggregator(config: .ephemeralLoopback(dataDirectory: directory), logger: Logger(label: "query-benchmark"))
        let bound = try aggregator.start()
        defer { aggregator.stop() }
        let token = try String(contentsOfFile: directory + "/api-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let dayAgo30 = endHour * 60 - 30 * 86_400 + 1_234
        let queries: [(name: String, path: String, target: Double)] = [
            ("90 days by team", "/v1/usage?since=\(options.days)d&by=team", 100),
            ("90 days by key,model", "/v1/usage?since=\(options.days)d&by=key,model", 100),
            ("90 days daily series by team", "/v1/usage?since=\(options.days)d&by=team&every=day", 100),
            ("last 24 h by team", "/v1/usage?since=24h&by=team", 20),
            ("last 24 h by key,model", "/v1/usage?since=24h&by=key,model", 20),
            ("24 h a month ago by key,model", "/v1/usage?since=\(dayAgo30)&until=\(dayAgo30 + 86_400)&by=key,model", 20),
            ("last 24 h hourly series by model", "/v1/usage?since=24h&by=model&every=hour", 20),
        ]
        print("queries: GET /v1/usage on a real aggregator (loopback HTTP, one connection per query), \(options.runs) runs each after one warm-up")
        for query in queries where options.only.map(query.name.contains) ?? true {
            var times: [Double] = []
            var cpuTimes: [Double] = []
            var rows = 0
            for run in 0...options.runs {
                let start = DispatchTime.now().uptimeNanoseconds
                let cpuStart = processCPUSeconds()
                let (status, body) = try HTTPGet.get(port: bound.api.port, path: query.path, token: token)
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if run > 0 { cpuTimes.append((processCPUSeconds() - cpuStart) * 1e3) }
                guard status == 200 else { fatalError("\(query.path): HTTP \(status): \(String(decoding: body, as: UTF8.self))") }
                rows = (try JSONSerialization.jsonObject(with: body) as? [Any])?.count ?? -1
                if run > 0 { times.append(milliseconds) }
            }
            let p50 = median(times)
            print(String(format: "  %@ p50 %7.2f ms  (min %.2f, max %.2f; CPU p50 %.2f ms; %d rows; target ≤ %.0f ms: %@)",
                         query.name.padding(toLength: 34, withPad: " ", startingAt: 0), p50, times.min()!, times.max()!, median(cpuTimes), rows,
                         query.target, p50 <= query.target ? "met" : "NOT met"))
        }
    }

    /// One batch per agent (hosts spread over 20 agents) holding the hour's cells.
    static func hourBatches(_ history: FleetHistory, hourStart: Int64, random: inout SplitMix,
                            seqs: inout [UInt64]) throws -> (frames: [[Data]], cells: Int) {
        var byAgent = [[Cell]](repeating: [], count: 20)
        for minute in hourStart..<(hourStart + 60) {
            for cell in history.cells(minute: minute, random: &random) {
                byAgent[Int(cell.key.dimensions.host.dropFirst(5))! % 20].append(cell)
            }
        }
        var frames: [[Data]] = []
        for agent in 0..<20 where !byAgent[agent].isEmpty {
            seqs[agent] += 1
            frames.append(try UsageBatchCodec.encode(UsageBatchMessage(agentID: "agent-\(agent)", seq: seqs[agent], floorSeq: 0, cells: byAgent[agent])))
        }
        return (frames, byAgent.reduce(0) { $0 + $1.count })
    }

    static func makeStore(_ directory: String, now: Int64) throws -> UsageStore {
        let store = try UsageStore(directory: directory)
        for (index, selector) in budgetSelectors.enumerated() {
            let unit = BudgetUnit.allCases[index % 3]
            let budget = Budget(id: "budget-\(index)", selector: try BudgetSelector(parsing: selector), unit: unit,
                                limit: unit == .usd ? 100_000 * Nanodollars.perDollar : 1_000_000_000_000,
                                period: [BudgetPeriod.day, .hour, .week, .month][index % 4], timeZone: ["UTC", "Europe/Paris", "America/New_York"][index % 3])
            _ = try store.setBudget(budget, now: now)
        }
        return store
    }

    /// 20 budgets mixing selectors of one to three pairs and the whole org.
    static let budgetSelectors: [String] = (0..<20).map { index in
        let team = FleetHistory.teams[index % 10], env = FleetHistory.environments[index % 3], model = FleetHistory.models[index % 20]
        return switch index % 5 {
        case 0: "team=\(team)"
        case 1: "team=\(team),env=\(env)"
        case 2: "model=\(model)"
        case 3: "env=\(env),model=\(model),team=\(team)"
        default: "*"
        }
    }

    /// Seconds to prepare and commit every hour's batches (one commit group per hour), and
    /// with `rollups`, to build each hour's rollups after it as the server's maintainer does.
    static func timeIngest(_ hours: [[[Data]]], firstMinute: Int64, rollups: Bool) throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-rollups-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try makeStore(directory, now: firstMinute * 60)
        defer { store.close() }
        let start = DispatchTime.now().uptimeNanoseconds
        for (index, frames) in hours.enumerated() {
            let group = try frames.map { try store.prepare(try UsageBatchCodec.decodeRaw($0)) }
            for result in store.commit(group) {
                guard case .success(let committed) = result, committed.outcome == .applied else { fatalError("not applied: \(result)") }
            }
            if rollups {
                try store.rollUp(now: (firstMinute + Int64(index + 1) * 60 + UsageStore.rollupSettleMinutes) * 60)
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func load(_ history: FleetHistory, into directory: String, startMinute: Int64,
                     days: Int) throws -> (cells: Int, hourCells: Int, dayCells: Int) {
        let store = try makeStore(directory, now: startMinute * 60)
        defer { store.close() }
        var random = SplitMix(seed: 90)
        var seqs = [UInt64](repeating: 0, count: 20)
        var cells = 0, hourCells = 0, dayCells = 0
        for hour in 0..<(days * 24) {
            let hourStart = startMinute + Int64(hour) * 60
            let batches = try hourBatches(history, hourStart: hourStart, random: &random, seqs: &seqs)
            cells += batches.cells
            let group = try batches.frames.map { try store.prepare(try UsageBatchCodec.decodeRaw($0)) }
            for result in store.commit(group) {
                guard case .success(let committed) = result, committed.outcome == .applied else { fatalError("not applied: \(result)") }
            }
            let built = try store.rollUp(now: (hourStart + 60 + UsageStore.rollupSettleMinutes) * 60)
            hourCells += built.hourCellsWritten
            dayCells += built.dayCellsWritten
        }
        try store.enforceRetention(RetentionPolicy(), now: (startMinute + Int64(days) * 1_440) * 60)
        // 90 days loaded in a minute leave a backlog of compactions that a server taking
        // them in over 90 days would have finished long ago; the queries must not race it.
        let settleStart = DispatchTime.now().uptimeNanoseconds
        let settled = try store.settleCompactions(timeout: 300)
        print(String(format: "compactions %@ after %.1f s", settled ? "finished" : "still running", Double(DispatchTime.now().uptimeNanoseconds - settleStart) / 1e9))
        return (cells, hourCells, dayCells)
    }

    /// CPU time of this whole process (server and client threads): what a query costs,
    /// whatever else the shared machine runs meanwhile.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
