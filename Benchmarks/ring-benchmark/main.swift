import Foundation
import TollgateRing

// ring-benchmark: events/s through MPSCRing vs. a Mutex-guarded ring array, moving 64-byte
// records from P producer threads to one consumer. Run it in release:
//     swift run -c release ring-benchmark [--repetitions N] [--events N] [--capacity N]
// or, under ThreadSanitizer, `--stress` (see scripts/tsan-ring.sh).

struct Options {
    var repetitions = 7
    var events = 10_000_000
    var capacity = 1024
    var producerCounts = [1, 2, 4]
    var stress = false
}

let usage = """
    usage: ring-benchmark [--repetitions N] [--events N] [--capacity N] [--stress]
      --repetitions N  runs per configuration; the median is reported (default 7)
      --events N       records per run, split across the producers (default 10000000)
      --capacity N     queue capacity, rounded up to a power of two (default 1024)
      --stress         instead of benchmarking, check 4 producers x 250k records through a
                       256-slot ring arrive complete and in order; exit 1 if not
    """

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var rest = arguments[...]
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("ring-benchmark: \(message)\n\(usage)\n".utf8))
        exit(2)
    }
    func positiveNumber(after flag: String) -> Int {
        guard let text = rest.popFirst() else { fail("\(flag) needs a number, e.g. \(flag) 5") }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")), value > 0 else {
            fail("\(flag) needs a positive whole number, got '\(text)'")
        }
        return value
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "--repetitions": options.repetitions = positiveNumber(after: argument)
        case "--events": options.events = positiveNumber(after: argument)
        case "--capacity": options.capacity = positiveNumber(after: argument)
        case "--stress": options.stress = true
        case "--help", "-h":
            print(usage)
            exit(0)
        default: fail("unknown argument '\(argument)'")
        }
    }
    if options.events < options.producerCounts.max()! {
        fail("--events must be at least \(options.producerCounts.max()!) so every producer sends something")
    }
    return options
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// `12.3M`, `850.2K`: events per second at a glance.
func rate(_ eventsPerSecond: Double) -> String {
    if eventsPerSecond >= 1e6 { return String(format: "%.1fM", eventsPerSecond / 1e6) }
    return String(format: "%.1fK", eventsPerSecond / 1e3)
}

func padded(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// Runs one configuration and checks the consumer got every record once, in order.
func timedRun<Q: BenchQueue>(_ type: Q.Type, label: String, producers: Int, options: Options, expected: Int64) -> Double {
    let (outcome, _) = measure(type, producers: producers, events: options.events, capacity: options.capacity)
    guard outcome.received == options.events, outcome.checksum == expected, outcome.orderErrors == 0 else {
        FileHandle.standardError.write(Data("""
            ring-benchmark: \(label) with \(producers) producers lost or reordered records \
            (received \(outcome.received)/\(options.events), order errors \(outcome.orderErrors), \
            checksum \(outcome.checksum == expected ? "ok" : "mismatch")): this is a bug in the queue\n
            """.utf8))
        exit(1)
    }
    return outcome.eventsPerSecond
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
if options.stress {
    exit(runStress() ? 0 : 1)
}

#if DEBUG
FileHandle.standardError.write(Data("ring-benchmark: warning: this is a debug build; numbers mean little. Use `swift run -c release ring-benchmark`.\n".utf8))
#endif

struct Row {
    var producers: Int
    var ring: Double
    var baseline: Double
    var ratio: Double { ring / baseline }
}

var rows: [Row] = []
for producers in options.producerCounts {
    let expected = expectedChecksum(events: options.events, producers: producers)
    var ringRates: [Double] = []
    var baselineRates: [Double] = []
    // Alternate the two queues so that noise from other work on the machine hits both alike.
    for repetition in 1...options.repetitions {
        ringRates.append(timedRun(MPSCRing<Record>.self, label: "MPSCRing", producers: producers, options: options, expected: expected))
        baselineRates.append(timedRun(MutexQueue.self, label: "Mutex baseline", producers: producers, options: options, expected: expected))
        FileHandle.standardError.write(Data("""
            P=\(producers) run \(repetition)/\(options.repetitions): \
            MPSCRing \(rate(ringRates.last!))/s, Mutex \(rate(baselineRates.last!))/s\n
            """.utf8))
    }
    rows.append(Row(producers: producers, ring: median(ringRates), baseline: median(baselineRates)))
}

print("""

    64-byte records, P producer threads -> 1 consumer thread, capacity \(options.capacity) \
    (rounded to a power of two), \(options.events) events per run, median of \(options.repetitions) runs

    """)
let headers = ["producers", "MPSCRing events/s", "Mutex events/s", "ring/baseline"]
print(headers.map { padded($0, $0.count) }.joined(separator: "  "))
for row in rows {
    let cells = [String(row.producers), rate(row.ring), rate(row.baseline), String(format: "%.2fx", row.ratio)]
    print(zip(cells, headers).map { padded($0, $1.count) }.joined(separator: "  "))
}
let ratios = rows.map { "\(String(format: "%.2fx", $0.ratio)) at P=\($0.producers)" }.joined(separator: ", ")
print("\nsummary: MPSCRing moves \(ratios) the events/s of the Mutex-guarded ring array")
