import Foundation
import TollgateCore
import TollgateWire

/// A steady load on a separate `tollgate serve` for as long as asked, so the aggregator's
/// memory can be watched from outside (`scripts/bench-aggregator-memory.sh` samples its
/// RSS): `--target tcp://… --seconds N --rate CELLS_PER_SECOND`. Twenty agents send
/// 1,000-cell batches stamped with the current minute, so every minute brings new cell keys
/// and the database grows as a real fleet's does; each agent keeps up to 16 batches in
/// flight, like the shipper. The aggregator must run with `insecure_plaintext: true`.
enum IngestSoak {
    static let agents = 20
    static let window = 16

    static func run(target: String, seconds: Int, rate: Int, cellsPerBatch: Int) throws {
        let context = ZMQContext()
        let run = UUID().uuidString.prefix(8)
        let names = (0..<agents).map { "soak-\(run)-\($0)" }
        let dealers = try names.map { _ -> ZMQSocket in
            let socket = try ZMQSocket(context, .dealer)
            try socket.connect(target)
            return socket
        }
        var sent = [UInt64](repeating: 0, count: agents)
        var acked = [UInt64](repeating: 0, count: agents)
        var skipped = 0
        var next = 0
        let start = Date()
        var lastReport = start
        let batchesPerTick = Double(rate) / Double(cellsPerBatch) / 10
        var owed = 0.0
        print("soak: \(rate) cells/s in \(cellsPerBatch)-cell batches from \(agents) agents to \(target) for \(seconds) s")
        while Date().timeIntervalSince(start) < Double(seconds) {
            let tick = Date()
            owed += batchesPerTick
            while owed >= 1 {
                owed -= 1
                let agent = next % agents
                next += 1
                // An aggregator that cannot keep up is not fed more: the figure is memory, not rate.
                guard sent[agent] - acked[agent] < UInt64(window) else {
                    skipped += 1
                    continue
                }
                sent[agent] += 1
                let batch = UsageBatchMessage(agentID: names[agent], seq: sent[agent], floorSeq: 0,
                                              cells: cells(count: cellsPerBatch, host: names[agent], batch: next))
                _ = try dealers[agent].send(try UsageBatchCodec.encode(batch), dontWait: false)
            }
            let ready = try ZMQSocket.waitForInput(on: dealers, milliseconds: 1)
            for index in dealers.indices where ready[index] {
                while let reply = try dealers[index].receive() {
                    guard case .ack(let seq) = try UsageReply(decoding: reply[0]) else { fatalError("refused: \(reply)") }
                    acked[index] = max(acked[index], seq)
                }
            }
            if Date().timeIntervalSince(lastReport) >= 10 {
                lastReport = Date()
                let cellsAcked = acked.reduce(0, +) * UInt64(cellsPerBatch)
                print(String(format: "  %4.0f s: %llu cells acknowledged, %d batches skipped (aggregator behind)",
                             lastReport.timeIntervalSince(start), cellsAcked, skipped))
            }
            let rest = 0.1 - Date().timeIntervalSince(tick)
            if rest > 0 { usleep(UInt32(rest * 1e6)) }
        }
        print("soak done: \(acked.reduce(0, +) * UInt64(cellsPerBatch)) cells acknowledged, \(skipped) batches skipped")
    }

    /// One batch's cells: 250 keys × 4 models × 8 teams × 3 environments × 17 projects in
    /// rotation, this agent as host, this minute.
    static func cells(count: Int, host: String, batch: Int) -> [Cell] {
        let minute = Int64(Date().timeIntervalSince1970) / 60
        return (0..<count).map { index in
            let cellIndex = (batch &* 7919 &+ index) % 100_000
            var dimensions = Dimensions()
            dimensions.keyID = "key-\(cellIndex % 250)"
            dimensions.keyHint = "sk-…\(cellIndex % 250)"
            dimensions.provider = "openai"
            dimensions.model = IngestBenchmark.models[cellIndex % IngestBenchmark.models.count]
            dimensions.team = IngestBenchmark.teams[(cellIndex / 4) % IngestBenchmark.teams.count]
            dimensions.environment = IngestBenchmark.environments[(cellIndex / 32) % IngestBenchmark.environments.count]
            dimensions.project = "project-\(cellIndex % 17)"
            dimensions.host = host
            var counters = UsageCounters()
            counters.requests = Int64(1 + index % 20)
            counters.tokens = TokenUsage(input: counters.requests * 800, cachedInput: counters.requests * 200, output: counters.requests * 150)
            counters.cost = Nanodollars(counters.requests * 2_500_000)
            return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
        }
    }
}
