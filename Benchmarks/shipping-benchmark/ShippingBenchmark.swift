import Foundation
import Logging
import TollgateAgent
import TollgateAggregator
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// End-to-end shipping rate: usage events recorded by P producer threads → lock-free ring
/// → shipper (events.log, cells, fsynced batch files) → ZeroMQ → aggregator → one RocksDB
/// WriteBatch per batch → ack. The clock stops when the aggregator's API reports every
/// event committed. Real components on loopback and temp dirs; run in release:
///
///     swift run -c release shipping-benchmark [--events N] [--producers P] [--keys K] [--repetitions R]
@main
struct ShippingBenchmark {
    static func main() async throws {
        let options = Options(CommandLine.arguments.dropFirst())
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        print("shipping \(options.events) events from \(options.producers) producer thread(s) over \(options.keys) keys × 4 models, \(options.repetitions) runs")
        var rates: [Double] = []
        var cellRates: [Double] = []
        for run in 1...options.repetitions {
            let result = try await runOnce(options)
            rates.append(Double(options.events) / result.seconds)
            cellRates.append(Double(result.cells) / result.seconds)
            print(String(format: "  run %d: %.3f s, %.0f events/s, %d distinct cells committed (%.0f cells/s)",
                         run, result.seconds, rates.last!, result.cells, cellRates.last!))
        }
        print(String(format: "median: %.0f events/s recorded → committed at the aggregator (%.0f cells/s)",
                     median(rates), median(cellRates)))
    }

    struct Options {
        var events = 1_000_000
        var producers = 2
        var keys = 250
        var repetitions = 5

        init(_ arguments: ArraySlice<String>) {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                let value = iterator.next().flatMap(Int.init) ?? 0
                switch flag {
                case "--events": events = value
                case "--producers": producers = max(1, value)
                case "--keys": keys = max(1, value)
                case "--repetitions": repetitions = max(1, value)
                default: FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8)); exit(64)
                }
            }
        }
    }

    static func runOnce(_ options: Options) async throws -> (seconds: Double, cells: Int) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-shipbench-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "shipping-benchmark")

        let aggregatorConfig = AggregatorConfig.ephemeralLoopback(dataDirectory: directory + "/aggregator")
        let aggregator = try Aggregator(config: aggregatorConfig, logger: logger)
        let bound = try aggregator.start()
        defer { aggregator.stop() }

        var agentConfig = AgentConfig()
        agentConfig.stateDirectory = directory + "/agent"
        agentConfig.aggregatorEndpoint = bound.usage
        let pipeline = try UsagePipeline(config: agentConfig, metrics: AgentMetrics(), logger: logger)
        pipeline.start()
        defer { pipeline.stopAndWait(drainTimeout: .seconds(1)) }

        let events = makeEvents(keys: options.keys)
        let started = Date()
        let perProducer = options.events / options.producers
        let producers = (0..<options.producers).map { producer in
            Thread {
                let count = producer == 0 ? options.events - perProducer * (options.producers - 1) : perProducer
                for index in 0..<count { pipeline.record(events[(index &+ producer &* 7919) % events.count]) }
            }
        }
        producers.forEach { $0.start() }

        var request = URLRequest(url: URL(string: "http://\(bound.api)/v1/usage?since=0&by=key,model")!)
        let token = try String(contentsOfFile: aggregatorConfig.dataDirectory + "/api-read-token", encoding: .utf8)
        request.setValue("Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))", forHTTPHeaderField: "Authorization")
        while true {
            let (data, _) = try await URLSession.shared.data(for: request)
            let rows = try JSONDecoder().decode([UsageRow].self, from: data)
            if rows.reduce(0, { $0 + $1.counters.requests }) >= Int64(options.events) {
                return (Date().timeIntervalSince(started), rows.count)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Realistic events: distinct keys and models, current time, every token class.
    static func makeEvents(keys: Int) -> [UsageEvent] {
        let now = Int64(Date().timeIntervalSince1970)
        return (0..<keys * 4).map { index in
            var dimensions = Dimensions()
            dimensions.keyID = String(format: "%032x", index / 4)
            dimensions.keyHint = "sk-…\(1000 + index / 4)"
            dimensions.provider = "openai"
            dimensions.model = ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "o4-mini-2025-04-16", "gpt-4.1-2025-04-14"][index % 4]
            dimensions.endpoint = "chat.completions"
            return UsageEvent(unixTime: now, dimensions: dimensions,
                              tokens: TokenUsage(input: 1_200, cachedInput: 512, output: 300, reasoning: 64),
                              cost: Nanodollars(4_880_000))
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
