import ArgumentParser
import Foundation
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

extension Logger.Level: @retroactive ExpressibleByArgument {}
