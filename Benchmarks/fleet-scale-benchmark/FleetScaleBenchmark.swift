import CZeroMQ
import Foundation
import TollgateCore
import TollgateWire

/// One `tollgate serve` (a real aggregator process, CurveZMQ on both channels, every agent's
/// public key in its agents.d directory) against a fleet of simulated agents, each with its
/// own Curve keypair, a DEALER on the usage channel and a SUB on the quota channel. Agents
/// live in worker processes (this executable with `--worker`) of up to `--per-worker`
/// agents each: a DEALER, a SUB and their two TCP connections are four descriptors per agent.
/// `scripts/bench-fleet-scale.sh` runs it on network namespaces (`--server-netns`,
/// `--worker-netns`, `--server-address`): the aggregator on one host, the workers on two
/// others, every byte over a veth and a bridge, and each side's packet receive steered to
/// that side's CPU, as on separate machines. Without those flags everything is on loopback.
///
/// First a baseline: `--baseline-agents` agents (20, like ingest-benchmark's server setup)
/// ship the same kind of 1,000-cell batches over Curve before any fleet connects. Then, for
/// each step of `--steps` (agents connected in all):
/// - the time to connect the step's new agents (both handshakes, first snapshot decoded);
/// - ingest: every connected agent ships `--batches` batches, `--rounds` times; cells/s
///   from the first send to the last ack across workers; median and ratio to the baseline
///   (and to `--server-baseline`, ingest-benchmark's in-process figure, when given);
/// - propagation, `--trials` times: a fresh budget (`team=<fresh>`, 10 requests a day) is
///   set through the HTTP API with the aggregator's token; once every agent holds it, one
///   agent ships the batch that crosses it; each agent's SUB decodes every update and notes
///   when it first holds the budget `blocked`. Per trial the time until the last agent does;
///   p50/p99 over trials; the CPU time the aggregator and the workers spent meanwhile
///   (the fan-out's cost on each side, apart from the machine's other load);
/// - the aggregator's RSS and open descriptors, from /proc.
///
/// - the aggregator's own share of each cap → blocked: `tollgate_quota_urgent_publish_seconds`
///   (urgent change queued → broadcast handed to ZeroMQ), read from its /metrics.
///
/// `--pin-server CPUS` and `--pin-workers CPUS` run the aggregator and the simulated agents
/// under `taskset -c`, so on a small machine the simulator does not take the aggregator's core.
/// `--zmq-io-threads N` sets the aggregator's `zmq_io_threads`; `--quota-far-spend-ms N` its
/// `quota_far_spend_ms` (0: spend of budgets far from their line goes at the window, as before).
/// `--decode scan` has the workers find the trial's budget state in each update's bytes
/// (`BudgetStateScan`) instead of decoding it as an agent does: how much of cap → blocked is
/// delivery, with the 5,000 decodes real hosts would each do once taken off this machine.
///
///     fleet-scale-benchmark --tollgate PATH [--steps 1000,2500,5000] [--rounds 3] [--trials 20]
@main
struct FleetScaleBenchmark {
    static func main() throws {
        var arguments: [String: String] = [:]
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            arguments[flag] = flag == "--worker" ? "" : iterator.next() ?? ""
        }
        if arguments["--worker"] != nil { return try FleetWorker.run(arguments) }
        try Coordinator(arguments).run()
    }
}

struct Coordinator {
    var steps = [1_000, 2_500, 5_000]
    var perWorker = 2_500
    var baselineAgents = 20
    var cells = 1_000
    var batches = 1
    var rounds = 3
    var trials = 20
    var serverBaseline: Double?
    var pinServer: String?
    var pinWorkers: String?
    /// `zmq_io_threads` for the aggregator; nil keeps its default.
    var ioThreads: Int?
    /// `quota_far_spend_ms` for the aggregator; nil keeps its default.
    var farSpendMilliseconds: Int?
    /// How workers read updates during cap trials: `full` (as agents do) or `scan` (`BudgetStateScan`).
    var decode = "full"
    /// Where the aggregator listens; with `--server-netns` (scripts/bench-fleet-scale.sh),
    /// its host's address on the fleet network, so every hop crosses a veth between hosts.
    var serverAddress = "127.0.0.1"
    /// Network namespaces (hosts of scripts/lib/fleet-netns.sh) for the aggregator and for
    /// the workers (round-robin); none: all on this machine's loopback.
    var serverNetns: String?
    var workerNetns: [String] = []
    var tollgate: String
    let directory: String
    let base: Int

    init(_ arguments: [String: String]) {
        func int(_ flag: String, _ fallback: Int) -> Int { arguments[flag].flatMap(Int.init) ?? fallback }
        if let text = arguments["--steps"] { steps = text.split(separator: ",").compactMap { Int($0) } }
        perWorker = int("--per-worker", perWorker)
        baselineAgents = int("--baseline-agents", baselineAgents)
        cells = int("--cells", cells)
        batches = int("--batches", batches)
        rounds = int("--rounds", rounds)
        trials = int("--trials", trials)
        serverBaseline = arguments["--server-baseline"].flatMap(Double.init)
        pinServer = arguments["--pin-server"]
        pinWorkers = arguments["--pin-workers"]
        ioThreads = arguments["--zmq-io-threads"].flatMap(Int.init)
        farSpendMilliseconds = arguments["--quota-far-spend-ms"].flatMap(Int.init)
        decode = arguments["--decode"] ?? decode
        serverAddress = arguments["--server-address"] ?? serverAddress
        serverNetns = arguments["--server-netns"]
        workerNetns = arguments["--worker-netns"].map { $0.split(separator: ",").map(String.init) } ?? []
        guard let path = arguments["--tollgate"] else {
            FileHandle.standardError.write(Data("--tollgate PATH (the release `tollgate` executable) is required\n".utf8))
            exit(64)
        }
        tollgate = path
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-scale-\(UUID().uuidString.prefix(8))").path
        // Below the ephemeral range (32768+), spread by pid so parallel runs do not collide.
        base = 20_000 + Int(getpid() % 4_000) * 3
    }

    var usage: String { "tcp://\(serverAddress):\(base)" }
    var quota: String { "tcp://\(serverAddress):\(base + 2)" }
    var api: String { "http://\(serverAddress):\(base + 1)" }

    func run() throws {
        let limit = raiseOpenFileLimit()
        let agentsDirectory = directory + "/agents.d"
        try FileManager.default.createDirectory(atPath: agentsDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // Keys: the aggregator's, and one per agent, each public key allowlisted as <name>.pub.
        let serverKeys = try CurveKeyPair.generate()
        try serverKeys.write(secretKeyTo: directory + "/aggregator.key", publicKeyTo: directory + "/aggregator.pub")
        let total = steps.max() ?? 0
        let names = (0..<baselineAgents).map { String(format: "baseline-%02d", $0) }
            + (0..<total).map { String(format: "agent-%05d", $0) } + ["crosser"]
        var keys: [String: CurveKeyPair] = [:]
        for name in names {
            let pair = try CurveKeyPair.generate()
            keys[name] = pair
            try Data("\(pair.publicKey)\n".utf8).write(to: URL(fileURLWithPath: "\(agentsDirectory)/\(name).pub"))
        }
        try """
            data_dir: \(directory)/data
            usage_listen: \(usage)
            quota_listen: \(quota)
            api_listen: \(serverAddress):\(base + 1)
            curve:
              secret_key_file: \(directory)/aggregator.key
              authorized_keys_dir: \(agentsDirectory)
            \(ioThreads.map { "zmq_io_threads: \($0)" } ?? "")
            \(farSpendMilliseconds.map { "quota_far_spend_ms: \($0)" } ?? "")

            """.write(toFile: directory + "/aggregator.yaml", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: directory + "/tollgate.log", contents: nil)
        let log = FileHandle(forWritingAtPath: directory + "/tollgate.log")
        let server = try pinned(pinServer, netns: serverNetns, tollgate, ["serve", "--config", directory + "/aggregator.yaml", "--log-level", "warning"], stderr: log)
        defer { server.terminate() }
        let token = try waitForAPI()
        print("tollgate serve pid \(server.pid) (usage \(usage), quota \(quota)); open-file limit here \(limit); \(ProcessFootprint(pid: server.pid))")
        try setStandingBudgets(token: token)
        print("batches of \(cells) cells; 20 standing budgets (as ingest-benchmark's server setup); \(rounds) ingest rounds and \(trials) cap trials per step")

        var spawned = 0
        func spawn(_ slice: ArraySlice<String>) throws -> ChildProcess {
            defer { spawned += 1 }
            let file = "\(directory)/keys-\(slice.first!).txt"
            try slice.map { "\($0) \(keys[$0]!.secretKey)" }.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            return try pinned(pinWorkers, netns: workerNetns.isEmpty ? nil : workerNetns[spawned % workerNetns.count], CommandLine.arguments[0], [
                "--worker", "--keys", file, "--server-key", serverKeys.publicKey, "--usage", usage, "--quota", quota, "--cells", "\(cells)",
                "--decode", decode,
            ])
        }

        // Baseline: a small fleet, alone.
        let baselineWorker = try spawn(names[0..<baselineAgents])
        _ = baselineWorker.expect("ready")
        let baselineBatches = max(1, steps.max()! * batches / baselineAgents / 5)
        let baselineRounds = (0..<rounds).map { _ in ingest([baselineWorker], batches: baselineBatches, server: server.pid) }
        let baselineRates = baselineRounds.map(\.rate)
        let baseline = median(baselineRates)
        print(IngestRound.cpuLine(baselineRounds))
        print(String(format: "baseline, %d agents × %d batches: median %.0f cells/s (runs: %@)", baselineAgents, baselineBatches, baseline,
                     baselineRates.map { String(format: "%.0f", $0) }.joined(separator: ", ")))

        let crosserContext = FleetContext(maxSockets: 16)
        let crosser = try FleetSocket(crosserContext, type: ZMQ_DEALER, keyPair: keys["crosser"]!, serverKey: serverKeys.publicKey, endpoint: usage)
        var crosserSeq: UInt64 = 0

        var workers: [ChildProcess] = []
        var connected = 0
        var summary: [String] = []
        for step in steps where step > connected {
            let fleet = baselineAgents + connected..<baselineAgents + step
            let started = monotonicNanoseconds()
            let added = try stride(from: fleet.lowerBound, to: fleet.upperBound, by: perWorker).map {
                try spawn(names[$0..<min($0 + perWorker, fleet.upperBound)])
            }
            let subscribed = added.map { Int($0.expect("ready")[1])! }.reduce(0, +)
            workers += added
            connected = step
            let connectSeconds = Double(monotonicNanoseconds() - started) / 1e9
            let idle = ProcessFootprint(pid: server.pid)
            print("— \(step) agents (+\(subscribed) subscribed in \(String(format: "%.1f", connectSeconds)) s, \(workers.count) worker processes); aggregator idle: \(idle)")

            let updatesBefore = try quotaUpdateCounts(token: token)
            let ingestRounds = (0..<rounds).map { _ in ingest(workers, batches: batches, server: server.pid) }
            let updatesAfter = try quotaUpdateCounts(token: token)
            let rates = ingestRounds.map(\.rate)
            let rate = median(rates)
            var line = String(format: "  ingest, every agent × %d batch(es): median %.0f cells/s (runs: %@); / baseline %.2f", batches, rate,
                              rates.map { String(format: "%.0f", $0) }.joined(separator: ", "), rate / baseline)
            if let serverBaseline { line += String(format: "; / ingest-benchmark server %.2f (target ≥ 0.90)", rate / serverBaseline) }
            print(line)
            print(IngestRound.cpuLine(ingestRounds))
            let ingestSeconds = ingestRounds.map(\.seconds).reduce(0, +)
            print(String(format: "  quota deltas broadcast during ingest: %.0f (%.1f a second), %.0f of them at the far-from-the-line cadence",
                         updatesAfter.all - updatesBefore.all, (updatesAfter.all - updatesBefore.all) / max(ingestSeconds, 0.001),
                         updatesAfter.far - updatesBefore.far))

            var allHeld: [Double] = []
            var perAgent: [Double] = []
            var missed = 0
            var trialSimulatorCPU: [Double] = []
            var trialAggregatorCPU: [Double] = []
            let publishedBefore = try urgentPublish(token: token)
            for trial in 1...trials {
                let team = "cap-\(step)-\(trial)"
                // Workers first look for the new budget, so none drops it unseen; the trial
                // starts once every agent holds it (its fan-out is over).
                for worker in workers { worker.send("watch \(team)") }
                for worker in workers { _ = worker.expect("expecting") }
                try setBudget(id: team, team: team, token: token)
                let holding = workers.map { Int($0.expect("watching")[1])! }.reduce(0, +)
                if holding < step { print("  trial \(trial): only \(holding) of \(step) agents held the new budget within 10 s") }
                crosserSeq += 1
                let frames = try UsageBatchCodec.frames(agentID: "crosser", seq: crosserSeq, floorSeq: 0,
                                                        payload: UsageBatchCodec.encodePayload([FleetTraffic.crossing(team: team)]))
                let aggregatorBefore = processCPUMilliseconds(pid: server.pid)
                let sent = monotonicNanoseconds()
                try crosser.send(frames)
                var seen: [Double] = []
                var simulator = 0.0
                for worker in workers {
                    let words = worker.expect("seen")
                    simulator += Double(UInt64(words[2])!) / 1e6
                    seen += words.dropFirst(3).map { Double(UInt64($0)! - sent) / 1e6 }
                }
                trialAggregatorCPU.append(processCPUMilliseconds(pid: server.pid) - aggregatorBefore)
                trialSimulatorCPU.append(simulator)
                while try crosser.receive() != nil {}
                missed += step - seen.count
                perAgent += seen
                if seen.count == step { allHeld.append(seen.max()!) }
            }
            allHeld.sort()
            perAgent.sort()
            let after = ProcessFootprint(pid: server.pid)
            print(String(format: "  cap → all %d agents blocked: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d trials (target p99 ≤ 100 ms); per agent p50 %.1f ms, p99 %.1f ms%@",
                         step, percentile(allHeld, 0.5), percentile(allHeld, 0.99), allHeld.last ?? .nan, allHeld.count,
                         percentile(perAgent, 0.5), percentile(perAgent, 0.99), missed > 0 ? "; \(missed) agent-trials never saw it within 10 s" : ""))
            print(String(format: "  CPU per trial (crossing batch sent → last agent blocked or 10 s; median over trials): aggregator %.0f ms, simulated agents %.0f ms (every thread: libzmq's decryption and the %@)",
                         median(trialAggregatorCPU), median(trialSimulatorCPU), decode == "scan" ? "byte scan" : "decoding"))
            let published = try urgentPublish(token: token).since(publishedBefore)
            print("  aggregator's share (urgent change queued → broadcast handed to ZeroMQ, \(published.count) urgent updates: each trial's new budget and its cap): \(published)")
            print("  aggregator after: \(after)")
            summary.append(String(format: "%5d agents: ingest %.0f cells/s (%.2f× baseline%@), cap → all p50 %.1f ms p99 %.1f ms, RSS %.0f MiB, %d fds",
                                  step, rate, rate / baseline, serverBaseline.map { String(format: ", %.2f× server", rate / $0) } ?? "",
                                  percentile(allHeld, 0.5), percentile(allHeld, 0.99), Double(after.rssKiB) / 1024, after.openFiles))
        }
        print("summary (baseline \(baselineAgents) agents: \(String(format: "%.0f", baseline)) cells/s\(serverBaseline.map { String(format: "; ingest-benchmark server %.0f cells/s", $0) } ?? "")):")
        summary.forEach { print("  " + $0) }
        for worker in workers + [baselineWorker] { worker.send("quit") }
        for worker in workers + [baselineWorker] { worker.process.waitUntilExit() }
    }

    /// `executable` under `taskset -c cpus` when `cpus` is set, in network namespace `netns`
    /// when set (`ip netns exec` and taskset both exec it: same pid, for /proc).
    func pinned(_ cpus: String?, netns: String? = nil, _ executable: String, _ arguments: [String], stderr: FileHandle? = nil) throws -> ChildProcess {
        var command = [executable] + arguments
        if let cpus { command = ["/usr/bin/taskset", "-c", cpus] + command }
        if let netns { command = ["/usr/bin/env", "ip", "netns", "exec", netns] + command }
        return try ChildProcess(command[0], Array(command.dropFirst()), stderr: stderr)
    }

    /// The aggregator's `tollgate_quota_urgent_publish_seconds` histogram, as it stands.
    func urgentPublish(token: String) throws -> PublishHistogram {
        PublishHistogram(metrics: try metricsText(token: token))
    }

    /// Quota updates published so far (snapshots excluded), and those sent at the far cadence.
    func quotaUpdateCounts(token: String) throws -> (all: Double, far: Double) {
        let text = try metricsText(token: token)
        func value(_ name: String) -> Double {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        }
        return (value("tollgate_quota_updates_published_total"), value("tollgate_quota_far_updates_total"))
    }

    /// The aggregator's /metrics page.
    func metricsText(token: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sf", "-H", "Authorization: Bearer \(token)", api + "/metrics"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    /// Every worker ships at once; cells/s from the first send to the last ack, and the CPU
    /// time the aggregator (`server`) and the workers spent meanwhile.
    func ingest(_ workers: [ChildProcess], batches: Int, server: Int32) -> IngestRound {
        let aggregatorBefore = processCPUMilliseconds(pid: server)
        for worker in workers { worker.send("ingest \(batches)") }
        var round = IngestRound()
        var start = UInt64.max
        var end = UInt64.min
        for worker in workers {
            let words = worker.expect("ingest")
            round.cells += Int(words[1])!
            start = min(start, UInt64(words[2])!)
            end = max(end, UInt64(words[3])!)
            round.simulatorCPU += Double(UInt64(words[4])!) / 1e6
        }
        round.aggregatorCPU = processCPUMilliseconds(pid: server) - aggregatorBefore
        round.seconds = Double(end - start) / 1e9
        return round
    }

    /// Waits for the API to answer with the token `tollgate serve` wrote on first start.
    func waitForAPI() throws -> String {
        let tokenFile = directory + "/data/api-token"
        for _ in 0..<300 {
            if let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
               !token.isEmpty, (try? curl(["-o", "/dev/null", "-H", "Authorization: Bearer \(token)", api + "/v1/budgets"])) != nil {
                return token
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ZMQFailure("tollgate serve did not come up in 30 s; see \(directory)/tollgate.log", code: 0)
    }

    /// 20 budgets the traffic counts against, mixing selectors, units and periods like
    /// ingest-benchmark's; limits far above what a run spends.
    func setStandingBudgets(token: String) throws {
        let teams = FleetTraffic.teams, environments = FleetTraffic.environments, models = ["gpt-4o", "gpt-4o-mini"]
        let periods = ["day", "hour", "week", "month"], units = ["usd", "tokens", "requests"]
        for index in 0..<20 {
            let selector = switch index % 5 {
            case 0: "team=\(teams[index % teams.count])"
            case 1: "team=\(teams[index % teams.count]),env=\(environments[index % environments.count])"
            case 2: "model=\(models[index % models.count])"
            case 3: "env=\(environments[index % environments.count]),model=\(models[index % models.count]),team=\(teams[index % teams.count])"
            default: "*"
            }
            let body = #"{"selector":"\#(selector)","unit":"\#(units[index % 3])","limit":1000000000000000,"period":"\#(periods[index % 4])"}"#
            try curl(["-X", "PUT", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "-d", body, "-o", "/dev/null",
                      "\(api)/v1/budgets/standing-\(index)"])
        }
    }

    func setBudget(id: String, team: String, token: String) throws {
        try curl(["-X", "PUT", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                  "-d", #"{"selector":"team=\#(team)","unit":"requests","limit":10,"period":"day"}"#, "-o", "/dev/null",
                  "\(api)/v1/budgets/\(id)"])
    }

    @discardableResult
    func curl(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sf"] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ZMQFailure("curl \(arguments.last!) failed (\(process.terminationStatus))", code: 0) }
        return 0
    }
}

func median(_ values: [Double]) -> Double { percentile(values.sorted(), 0.5) }

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))]
}

/// A Prometheus duration histogram read from text: cumulative bucket counts by upper bound.
struct PublishHistogram: CustomStringConvertible {
    var buckets: [(le: Double, count: Double)] = []
    var count: Double = 0
    var sum: Double = 0

    init(metrics: String, name: String = "tollgate_quota_urgent_publish_seconds") {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name) {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[parts.count - 1]) else { continue }
            if line.hasPrefix(name + "_count") { count = value }
            if line.hasPrefix(name + "_sum") { sum = value }
            if line.hasPrefix(name + "_bucket"), let start = line.range(of: "le=\""), let end = line[start.upperBound...].firstIndex(of: "\"") {
                let bound = String(line[start.upperBound..<end])
                buckets.append((bound == "+Inf" ? .infinity : Double(bound) ?? .infinity, value))
            }
        }
        buckets.sort { $0.le < $1.le }
    }

    private init() {}

    func since(_ earlier: PublishHistogram) -> PublishHistogram {
        var difference = PublishHistogram()
        difference.count = count - earlier.count
        difference.sum = sum - earlier.sum
        difference.buckets = buckets.map { bucket in (bucket.le, bucket.count - (earlier.buckets.first { $0.le == bucket.le }?.count ?? 0)) }
        return difference
    }

    /// The upper bound of the bucket holding the `fraction` quantile.
    func quantileBound(_ fraction: Double) -> Double {
        let rank = count * fraction
        return buckets.first { $0.count >= rank }?.le ?? .infinity
    }

    var description: String {
        guard count > 0 else { return "none" }
        return String(format: "mean %.2f ms, p50 ≤ %.1f ms, p99 ≤ %.1f ms", sum / count * 1e3, quantileBound(0.5) * 1e3, quantileBound(0.99) * 1e3)
    }
}

/// One ingest round: cells, wall time, and CPU (ms) on each side. CPU per cell does not
/// depend on how much of the machine other work took, which the wall-clock rate does.
struct IngestRound {
    var cells = 0
    var seconds = 0.0
    var aggregatorCPU = 0.0
    var simulatorCPU = 0.0

    var rate: Double { Double(cells) / seconds }

    static func cpuLine(_ rounds: [IngestRound]) -> String {
        String(format: "  CPU while ingesting (median of rounds): aggregator %.2f µs per cell (%.0f %% of one CPU), simulated agents %.0f %% of one CPU",
               median(rounds.map { $0.aggregatorCPU * 1e3 / Double($0.cells) }), median(rounds.map { $0.aggregatorCPU / $0.seconds / 10 }),
               median(rounds.map { $0.simulatorCPU / $0.seconds / 10 }))
    }
}
