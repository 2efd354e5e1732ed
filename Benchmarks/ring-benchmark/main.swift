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
    var maxSeconds = 10
    var producerCounts = [1, 2, 4]
    var stress = false
}

let usage = """
    usage: ring-benchmark [--repetitions N] [--events N] [--capacity N] [--max-seconds N] [--stress]
      --repetitions N  runs per configuration; the median is reported (default 7)
      --events N       records per run, split across the producers (default 10000000)
      --capacity N     queue capacity, rounded up to a power of two (default 1024)
      --max-seconds N  stop a run's producers after N seconds and rate what was sent by then
                       (default 10; a lock convoy can make a run a thousand times slower)
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
        case "--max-seconds": options.maxSeconds = positiveNumber(after: argument)
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

/// The runs of one queue at one producer count.
struct Runs {
    var rates: [Double] = []
    var capped = 0

    mutating func record(_ outcome: Outcome) {
        rates.append(outcome.eventsPerSecond)
        if outcome.hitTimeCap { capped += 1 }
    }

    /// `63.8M (56.0M–67.9M)`: the median, then the spread, which on a busy machine is wide;
    /// `*` when some runs hit the time cap.
    var summary: String {
        "\(rate(median(rates))) (\(rate(rates.min()!))–\(rate(rates.max()!)))\(capped > 0 ? "*" : "")"
    }
}

/// Runs one configuration and checks the consumer got every sent record once, in order.
func timedRun<Q: BenchQueue>(_ type: Q.Type, label: String, producers: Int, options: Options) -> Outcome {
    let (outcome, _) = measure(
        type, producers: producers, events: options.events, capacity: options.capacity,
        maxSeconds: Double(options.maxSeconds)
    )
    guard outcome.isCorrect else {
        FileHandle.standardError.write(Data("""
            ring-benchmark: \(label) with \(producers) producers lost or reordered records \
            (received \(outcome.received)/\(outcome.sent), order errors \(outcome.orderErrors), \
            checksum \(outcome.checksum == outcome.expectedChecksum ? "ok" : "mismatch")): this is a bug in the queue\n
            """.utf8))
        exit(1)
    }
    return outcome
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
if options.stress {
    exit(runStress() ? 0 : 1)
}

#if DEBUG
FileHandle.standardError.write(Data("ring-benchmark: warning: this is a debug build; numbers mean little. Use `swift run -c release ring-benchmark`.\n".utf8))
#endif

var rows: [(producers: Int, ring: Runs, baseline: Runs)] = []
for producers in options.producerCounts {
    var ring = Runs()
    var baseline = Runs()
    // Alternate the two queues so that noise from other work on the machine hits both alike.
    for repetition in 1...options.repetitions {
        ring.record(timedRun(MPSCRing<Record>.self, label: "MPSCRing", producers: producers, options: options))
        baseline.record(timedRun(MutexQueue.self, label: "Mutex baseline", producers: producers, options: options))
        FileHandle.standardError.write(Data("""
            P=\(producers) run \(repetition)/\(options.repetitions): \
            MPSCRing \(rate(ring.rates.last!))/s, Mutex \(rate(baseline.rates.last!))/s\n
            """.utf8))
    }
    rows.append((producers, ring, baseline))
}

print("""

    64-byte records, P producer threads -> 1 consumer thread, capacity \(options.capacity) \
    (rounded to a power of two), \(options.events) events per run, median of \(options.repetitions) runs

    """)
let headers = ["producers", "MPSCRing events/s (min–max)", "Mutex events/s (min–max)", "ring/baseline"]
let ratios = rows.map { median($0.ring.rates) / median($0.baseline.rates) }
let table = [headers] + zip(rows, ratios).map { row, ratio in
    [String(row.producers), row.ring.summary, row.baseline.summary, String(format: "%.2fx", ratio)]
}
let widths = headers.indices.map { column in table.map { $0[column].count }.max()! }
for line in table {
    print(zip(line, widths).map { padded($0, $1) }.joined(separator: "  "))
}
if rows.contains(where: { $0.ring.capped + $0.baseline.capped > 0 }) {
    print("* some runs hit --max-seconds \(options.maxSeconds) and were rated on the records sent until then")
}
let ratioList = zip(rows, ratios).map { "\(String(format: "%.2fx", $1)) at P=\($0.producers)" }
print("\nsummary: MPSCRing / Mutex-guarded ring array, median events/s: \(ratioList.joined(separator: ", "))")
