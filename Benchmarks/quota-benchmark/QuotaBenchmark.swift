import Foundation
import Logging
import TollgateAggregator
import TollgateCore
import TollgateWire

/// Quota propagation: the time from sending the usage batch that crosses a budget's cap to
/// every one of N subscribed agents holding the budget as blocking. A real aggregator
/// (ZeroMQ ingest, RocksDB commit, XPUB publisher) runs in process on loopback; the agents
/// are N ZeroMQ SUB sockets polled by one thread, each decoding every update as the agent
/// does. Each trial caps a fresh budget, so every trial is a first crossing. Prints p50/p99.
///
///     swift run -c release quota-benchmark [--agents N] [--trials T]
@main
struct QuotaBenchmark {
    static func main() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .critical
            return handler
        }
        var agents = 100
        var trials = 200
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let flag = arguments.next() {
            let value = arguments.next().flatMap(Int.init) ?? 0
            switch flag {
            case "--agents": agents = max(1, value)
            case "--trials": trials = max(1, value)
            default: FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8)); exit(64)
            }
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quota-bench-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = AggregatorConfig.ephemeralLoopback(dataDirectory: directory)
        config.quotaSnapshotInterval = .seconds(600)  // only deltas during the run
        let aggregator = try Aggregator(config: config, logger: Logger(label: "quota-benchmark"))
        let bound = try aggregator.start()
        defer { aggregator.stop() }

        let context = ZMQContext()
        let subscribers = try (0..<agents).map { _ -> ZMQSocket in
            let socket = try ZMQSocket(context, .sub)
            try socket.set(.subscribe(Data()))
            try socket.connect(bound.quota)
            return socket
        }
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.connect(bound.usage)
        // Let every subscription reach the publisher (each triggers a snapshot; drain them).
        Thread.sleep(forTimeInterval: 1)
        drain(subscribers)

        print("\(agents) subscribed agents, \(trials) trials: usage batch that crosses a fresh budget's cap → every agent holds it as blocking")
        var latencies: [Double] = []
        for trial in 1...trials {
            let team = "team-\(trial)"
            let budgetID = "cap-\(trial)"
            _ = try aggregator.budgets.setBudget(Budget(id: budgetID, selector: BudgetSelector(conditions: [.init(.team, team)]),
                                                        unit: .usd, limit: 1_000_000, period: .day))
            Thread.sleep(forTimeInterval: 0.005)
            drain(subscribers)

            var dimensions = Dimensions()
            dimensions.team = team
            dimensions.model = "gpt-4o"
            var counters = UsageCounters()
            counters.requests = 1
            counters.cost = Nanodollars(2_000_000)
            let cell = Cell(key: CellKey(minute: Int64(Date().timeIntervalSince1970) / 60, dimensions: dimensions), counters: counters)
            let payload = try UsageBatchCodec.encodePayload([cell])
            let frames = try UsageBatchCodec.frames(agentID: "quota-bench", seq: UInt64(trial), floorSeq: 0, payload: payload)

            let sent = DispatchTime.now().uptimeNanoseconds
            try dealer.send(frames, dontWait: false)
            var pending = Set(0..<agents)
            let deadline = sent + 5_000_000_000
            while !pending.isEmpty && DispatchTime.now().uptimeNanoseconds < deadline {
                let order = pending.sorted()
                let ready = try ZMQSocket.waitForInput(on: order.map { subscribers[$0] }, milliseconds: 100)
                for (index, isReady) in zip(order, ready) where isReady {
                    while let message = try subscribers[index].receive() {
                        let update = try QuotaUpdateCodec.decode(message[0])
                        if update.budgets.contains(where: { $0.budgetID == budgetID && $0.isBlocking }) { pending.remove(index) }
                    }
                }
            }
            guard pending.isEmpty else {
                print("trial \(trial): \(pending.count) agents never saw the cap")
                exit(1)
            }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6)
            _ = try? dealer.receive()  // the ack
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[max(0, Int(Double(latencies.count) * 0.99) - 1)]
        print(String(format: "cap → all %d agents enforcing: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 ≤ 100 ms: %@)",
                     agents, p50, p99, latencies.last!, p99 <= 100 ? "met" : "NOT met"))
    }

    static func drain(_ sockets: [ZMQSocket]) {
        for socket in sockets { while (try? socket.receive()) != nil {} }
    }
}
