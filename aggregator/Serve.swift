import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateAggregator

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the aggregator until SIGINT or SIGTERM.",
        discussion: "Settings come from a YAML file; see aggregator/tollgate.example.yaml for each key and its default.")

    @Option(name: .shortAndLong, help: "Path of the aggregator's YAML config.")
    var config: String = "/etc/tollgate/aggregator.yaml"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        capMallocArenas()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let settings: AggregatorConfig
        do {
            settings = try AggregatorConfig(file: config)
        } catch {
            throw ValidationError("\(error)")
        }
        let logger = Logger(label: "tollgate")
        let aggregator = try Aggregator(config: settings, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [aggregator], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Caps glibc's malloc arenas at 2 unless the operator set `MALLOC_ARENA_MAX` themselves.
/// glibc gives each thread that contends for malloc its own arena (up to 8 per core) and
/// rarely hands their free pages back, so with RocksDB's background threads and the NIO and
/// Swift concurrency pools the aggregator's RSS kept creeping (~5 MiB/min for 20 minutes)
/// even with RocksDB's caches and memtables bounded; with 2 arenas it levels off
/// (docs/BENCHMARKS.md, aggregator memory). Called first thing in `serve`, before the
/// aggregator's threads start, because the cap only stops new arenas being made.
func capMallocArenas(_ arenas: Int32 = 2) {
    #if canImport(Glibc)
    guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
    // Swift's Glibc module leaves out <malloc.h>, so look mallopt up; RTLD_DEFAULT is nil.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(nil, "mallopt") else { return }
    let M_ARENA_MAX: Int32 = -8  // from <malloc.h>
    _ = unsafeBitCast(symbol, to: Mallopt.self)(M_ARENA_MAX, arenas)
    #endif
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
