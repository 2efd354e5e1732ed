import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateWire

/// Figures for docs/BENCHMARKS.md, run on demand (`TOLLGATE_SPOOL_BENCH=1`, best in a
/// release build): start-up after a day-long outage, and what durable-before-delivered costs
/// an event loop per response.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_SPOOL_BENCH"] != nil)) struct SpoolStartupBenchmark {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-bench-\(UUID())").path

    func cell(_ index: Int) -> Cell {
        var dimensions = Dimensions()
        dimensions.keyID = "key-\(index % 50)"
        dimensions.provider = "openai"
        dimensions.endpoint = "chat"
        dimensions.model = "gpt-4o-mini-2024-07-18"
        var counters = UsageCounters()
        counters.requests = 1
        counters.tokens.input = Int64(index % 900)
        counters.tokens.output = Int64(index % 300)
        counters.cost = Nanodollars(Int64(index % 900) * 150)
        return Cell(key: CellKey(minute: Int64(29_000_000 + index / 240), dimensions: dimensions), counters: counters)
    }

    /// 350,000 one-cell batches (a day of 250 ms cuts with the aggregator away), laid out as
    /// `Spool.write` lays them out (records appended to 8 MiB segments), then one start.
    /// `TOLLGATE_SPOOL_BENCH_KEEP=dir` leaves the state directory there, for timing a real
    /// agent's start on it (`scripts/bench-agent-startup.sh`).
    @Test func startUpAfterADayLongOutage() throws {
        let keep = ProcessInfo.processInfo.environment["TOLLGATE_SPOOL_BENCH_KEEP"]
        defer {
            if let keep { try? FileManager.default.moveItem(atPath: directory, toPath: keep) } else { try? FileManager.default.removeItem(atPath: directory) }
        }
        let batches = Int(ProcessInfo.processInfo.environment["TOLLGATE_SPOOL_BENCH_BATCHES"] ?? "") ?? 350_000
        let spoolDirectory = Spool.directory(in: directory)
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
        var segment = Data()
        var firstSeq = 1
        func flush() throws {
            guard !segment.isEmpty else { return }
            try segment.write(to: URL(fileURLWithPath: "\(spoolDirectory)/segment-\(String(format: "%020d", firstSeq)).tgs"))
            segment = Data()
        }
        for seq in 1...batches {
            if segment.count >= 8 << 20 {
                try flush()
                firstSeq = seq
            }
            segment.append(SpoolRecord.encode(SpooledBatch(seq: UInt64(seq), payload: try UsageBatchCodec.encodePayload([cell(seq)]))))
        }
        try flush()
        let files = try FileManager.default.contentsOfDirectory(atPath: spoolDirectory).count
        let bytes = try FileManager.default.contentsOfDirectory(atPath: spoolDirectory).reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: "\(spoolDirectory)/\($1)")[.size] as? Int) ?? 0)
        }

        let clock = ContinuousClock()
        var window = ShipperWindow()
        var recovered = 0
        let elapsed = try clock.measure {
            let recovery = try Spool(stateDirectory: directory).recover()
            for batch in recovery.batches { window.append(seq: batch.seq, payload: batch.payload, possiblySent: true) }
            recovered = recovery.batches.count
        }
        #expect(recovered == batches)
        print("spool start-up: \(batches) batches in \(files) segment files (\(bytes) bytes) recovered in \(elapsed)")
    }

    /// What `UsageRecorder.record` costs the calling event loop: encode + one write(2) + ring push.
    @Test func recordCostPerEvent() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = EventLog(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try log.rotate(to: 1)
        let recorder = UsageRecorder(capacity: 8192, log: log)
        var dimensions = Dimensions()
        dimensions.keyID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        dimensions.keyHint = "sk-...abcd"
        dimensions.provider = "openai"
        dimensions.endpoint = "chat"
        dimensions.model = "gpt-4o-mini-2024-07-18"
        let event = UsageEvent(unixTime: 1_796_546_581, dimensions: dimensions, tokens: TokenUsage(input: 812, output: 230), cost: Nanodollars(260_000))
        let count = 200_000
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for index in 0..<count {
                recorder.record(event)
                if index % 4096 == 4095 { _ = recorder.drain() }
            }
        }
        let perEvent = elapsed / count
        print("record(): \(perEvent) per event over \(count) events (encode + write(2) + ring push), log on \(directory)")
    }
}
