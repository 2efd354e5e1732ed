import ArgumentParser
import Dispatch
import Foundation
import Logging
import TollgateCore
import TollgateAgent

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the agent until SIGINT or SIGTERM.",
        discussion: "On a signal the agent stops accepting requests and flushes usage to the aggregator before exiting.")

    @OptionGroup var options: ConfigOption

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "tollgate-agent")
        let settings = try options.load()
        let agent = try Agent(config: settings, logger: logger)
        try agent.start()
        waitForTerminationSignal()
        logger.info("signal received; flushing usage and stopping")
        agent.stop()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
