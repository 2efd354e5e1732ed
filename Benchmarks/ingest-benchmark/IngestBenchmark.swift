import Foundation
import Logging
import TollgateAggregator
import TollgateCore
import TollgateWire

/// Aggregator ingest rate in cells per second: what `IngestServer` does with a batch after
/// ZeroMQ hands it over (check the frames, decompress, read the cells, encode them and
/// count budget spend, then commit one synced WriteBatch and run `BudgetBoard.didCommit`).
/// Two ways, each without budgets and with 20 budgets active:
/// - `one thread`: every step on the caller's thread, one batch after the other.
/// - `pipeline`: as the server runs it; the caller's thread decodes and prepares, a
///   `SerialStage` thread commits, so one batch commits while the next is prepared.
/// - `server`: a real `Aggregator` on loopback ZeroMQ (plaintext; its ingest pipeline,
///   quota publisher and API running), fed by 20 DEALER sockets, one per agent, each
///   keeping up to 16 batches in flight like the agent's shipper; the clock stops at the
///   last ack. The DEALERs' sending and reading share the process's CPU.
/// Runs alternate between the setups, each on a fresh temp dir; prints medians and ratios.
/// Run in release:
///
///     swift run -c release ingest-benchmark [--batches N] [--cells C] [--runs R] [--budgets B] [--only NAME]
///     swift run -c release ingest-benchmark --target tcp://127.0.0.1:7600 [--seconds N] [--rate CELLS_PER_S]
///     swift run -c release ingest-benchmark --budget-changes N [--batches N]
@main
struct IngestBenchmark {
    struct Options {
        var batches = 300
        var cells = 1_000
        var runs = 5
        var budgets = 20
        /// Runs only the setups whose name contains this (for profiling one of them).
        var only = ""
        /// A running aggregator's usage endpoint: soak it instead (`IngestSoak`).
        var target = ""
        var seconds = 600
        var rate = 50_000
        /// Times this many budget changes after ingest instead (`BudgetChanges`).
        var budgetChanges = 0

        init(_ arguments: ArraySlice<String>) {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                let argument = iterator.next()
                let value = argument.flatMap(Int.init) ?? 0
                switch flag {
                case "--only": only = argument ?? ""
                case "--batches": batches = max(1, value)
                case "--cells": cells = max(1, value)
                case "--runs": runs = max(1, value)
                case "--budgets": budgets = max(1, value)
                case "--target": target = argument ?? ""
                case "--seconds": seconds = max(1, value)
                case "--rate": rate = max(1, value)
                case "--budget-changes": budgetChanges = max(1, value)
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
        if !options.target.isEmpty {
            return try IngestSoak.run(target: options.target, seconds: options.seconds, rate: options.rate, cellsPerBatch: options.cells)
        }
        let batches = makeBatches(options)
        let frames = try batches.map { try UsageBatchCodec.encode($0) }
        if options.budgetChanges > 0 {
            return try BudgetChanges.run(frames, cellsPerBatch: options.cells, changes: options.budgetChanges, budgets: options.budgets)
        }
        print("applying \(options.batches) batches × \(options.cells) cells (\(teams.count) teams × \(environments.count) envs × \(models.count) models × keys, 20 agents), \(options.runs) runs per setup")
        var rates: [String: [Double]] = [:]
        var costs: [String: [Double]] = [:]
        let setups: [(name: String, budgets: Int, pipeline: Bool)] = [
            ("one thread, no budgets", 0, false), ("one thread, \(options.budgets) budgets", options.budgets, false),
            ("pipeline, no budgets", 0, true), ("pipeline, \(options.budgets) budgets", options.budgets, true),
            ("server, \(options.budgets) budgets", options.budgets, true),
            ("pipeline, \(options.budgets) budgets + spend series", options.budgets, true),
            ("pipeline, \(options.budgets) budgets, rollups", options.budgets, true),
        ].filter { options.only.isEmpty || $0.name.contains(options.only) }
        for run in 1...options.runs {
            for setup in setups {
                let result = try measure(options) {
                    if setup.name.hasPrefix("server") { return try runServer(frames, budgets: setup.budgets) }
                    return setup.pipeline
                        ? try runPipeline(frames, budgets: setup.budgets, spendSeries: setup.name.hasSuffix("spend series"),
                                          rollups: setup.name.hasSuffix("rollups"))
                        : try runOneThread(frames, budgets: setup.budgets)
                }
                rates[setup.name, default: []].append(result.rate)
                costs[setup.name, default: []].append(result.cpuMicroseconds)
                print(String(format: "  run %d: %@: %.0f cells/s, %.2f µs CPU per cell", run, setup.name, result.rate, result.cpuMicroseconds))
            }
        }
        print("medians:")
        for setup in setups {
            print("  " + setup.name.padding(toLength: 38, withPad: " ", startingAt: 0)
                + String(format: "%8.0f cells/s  %5.2f µs CPU per cell", median(rates[setup.name]!), median(costs[setup.name]!)))
        }
        if let plain = rates["pipeline, \(options.budgets) budgets"], let fed = rates["pipeline, \(options.budgets) budgets + spend series"] {
            print(String(format: "spend series / without (pipeline, %d budgets): %.3f cells/s, %.3f CPU per cell", options.budgets,
                         median(fed) / median(plain),
                         median(costs["pipeline, \(options.budgets) budgets + spend series"]!) / median(costs["pipeline, \(options.budgets) budgets"]!)))
        }
        if let plain = rates["pipeline, \(options.budgets) budgets"], let rolled = rates["pipeline, \(options.budgets) budgets, rollups"] {
            print(String(format: "rollups: pipeline with budgets and rollups / without rollups %.3f cells/s, %.3f CPU per cell", median(rolled) / median(plain),
                         median(costs["pipeline, \(options.budgets) budgets, rollups"]!) / median(costs["pipeline, \(options.budgets) budgets"]!)))
        }
        guard setups.count == 7 else { return }
        let oneThread = median(rates[setups[1].name]!)
        let pipeline = median(rates[setups[3].name]!)
        print(String(format: "with budgets: pipeline / one thread %.2f; budgets / none: one thread %.2f, pipeline %.2f", pipeline / oneThread,
                     oneThread / median(rates[setups[0].name]!), pipeline / median(rates[setups[2].name]!)))
    }

    /// Wall-clock rate, and CPU time of the whole process (every thread, RocksDB's
    /// background flushes included) per cell: the second is the steadier figure on a
    /// shared machine. `body` returns the seconds its timed part took.
    static func measure(_ options: Options, _ body: () throws -> (seconds: Double, cpu: Double)) throws -> (rate: Double, cpuMicroseconds: Double) {
        let (seconds, cpu) = try body()
        let cells = Double(options.batches * options.cells)
        return (cells / seconds, cpu / cells * 1e6)
    }

    /// Process CPU time (user + system, all threads) in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
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

    /// A fresh store with `count` budgets, and its board.
    static func makeStore(budgets count: Int) throws -> (UsageStore, BudgetBoard, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString)").path
        let store = try UsageStore(directory: directory)
        let board = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: AggregatorMetrics(), logger: Logger(label: "bench")))
        let now = Int64(Date().timeIntervalSince1970)
        if count > 0 {
            for budget in try makeBudgets(count) { _ = try store.setBudget(budget, now: now) }
        }
        return (store, board, directory)
    }

    static func runOneThread(_ frames: [[Data]], budgets count: Int) throws -> (seconds: Double, cpu: Double) {
        let (store, board, directory) = try makeStore(budgets: count)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var spend: [BudgetSpend] = []
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = cpuSeconds()
        for batch in frames {
            let prepared = try store.prepare(try UsageBatchCodec.decodeRaw(batch))
            guard try store.commit(prepared, budgetSpend: &spend) == .applied else {
                fatalError("batch \(prepared.batch.seq) of \(prepared.batch.agentID) not applied")
            }
            board.didCommit(spend)
        }
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpuSeconds() - cpuStart)
    }

    /// `spendSeries`: also sums each batch per (provider, model, team) in `prepare`'s loop
    /// and adds the sums once applied, as `IngestServer` feeds `/metrics`.
    /// With `rollups`, the store accumulates hours from the start (a first `rollUp`, as the
    /// aggregator's maintainer runs at start-up), and the clock stops once every hour and
    /// day is written (`rollUp` past the last minute), so the figure is ingest's whole cost.
    /// Without, the store never rolls up: minute cells alone.
    static func runPipeline(_ frames: [[Data]], budgets count: Int, spendSeries: Bool = false, rollups: Bool = false) throws -> (seconds: Double, cpu: Double) {
        let (store, board, directory) = try makeStore(budgets: count)
        // Handed over before the first minute (a day ago), as a running aggregator's store
        // is before new traffic: none of these minutes is late.
        if rollups { try store.rollUp(now: Int64(Date().timeIntervalSince1970) - 86_400) }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let series = SpendSeries()
        let stage = SerialStage<(PreparedBatch, SpendSeriesTally?)>(name: "bench-commit", capacity: 16) { group in
            for (result, item) in zip(store.commit(group.map(\.0)), group) {
                guard let committed = try? result.get(), committed.outcome == .applied else { fatalError("a batch was not applied: \(result)") }
                board.didCommit(committed.budgetSpend)
                if let tally = item.1 { series.add(tally) }
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = cpuSeconds()
        for batch in frames {
            let raw = try UsageBatchCodec.decodeRaw(batch)
            let prepared = try store.prepare(raw, spendSeries: spendSeries)
            stage.submit((prepared, prepared.spendSeries))
        }
        stage.finish()
        if rollups {
            let built = try store.rollUp(now: Int64(Date().timeIntervalSince1970) + 86_400)
            guard built.hourCellsWritten > 0, built.dayCellsWritten > 0, built.accumulatedGroups == 0 else { fatalError("rollups not built: \(built)") }
        }
        // What RocksDB does once the memtable fills (sorting and writing every entry),
        // in every setup: otherwise a run pays for it or not depending on where the
        // 64 MiB memtable happens to fill.
        try store.flushMemtable()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpuSeconds() - cpuStart)
    }

    static func runServer(_ frames: [[Data]], budgets count: Int) throws -> (seconds: Double, cpu: Double) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = AggregatorConfig.ephemeralLoopback(dataDirectory: directory)
        let aggregator = try Aggregator(config: config, logger: Logger(label: "ingest-benchmark"))
        let bound = try aggregator.start()
        defer { aggregator.stop() }
        for budget in try makeBudgets(count) { _ = try aggregator.budgets.setBudget(budget) }

        // One DEALER per agent, each with its own batches in seq order.
        let context = ZMQContext()
        var queues: [String: [[Data]]] = [:]
        var agents: [String] = []
        for batch in frames {
            let agent = try UsageBatchCodec.decodeHeader(batch).agentID
            if queues[agent] == nil { agents.append(agent) }
            queues[agent, default: []].append(batch)
        }
        let dealers = try agents.map { _ -> ZMQSocket in
            let socket = try ZMQSocket(context, .dealer)
            try socket.connect(bound.usage)
            return socket
        }
        let window = 16
        var sent = [Int](repeating: 0, count: agents.count)
        var acked = [Int](repeating: 0, count: agents.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = cpuSeconds()
        while zip(acked, agents).contains(where: { $0 < queues[$1]!.count }) {
            for index in agents.indices {
                let queue = queues[agents[index]]!
                while sent[index] < queue.count, sent[index] - acked[index] < window {
                    try dealers[index].send(queue[sent[index]], dontWait: false)
                    sent[index] += 1
                }
            }
            let ready = try ZMQSocket.waitForInput(on: dealers, milliseconds: 1_000)
            for index in agents.indices where ready[index] {
                while let reply = try dealers[index].receive() {
                    guard case .ack(let seq) = try UsageReply(decoding: reply[0]) else { fatalError("nack: \(reply)") }
                    acked[index] = max(acked[index], Int(seq))
                }
            }
        }
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpuSeconds() - cpuStart)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
