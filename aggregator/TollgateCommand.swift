import ArgumentParser
import TollgateCore

@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Tollgate's aggregator and operator CLI.",
        discussion: """
        `tollgate serve` runs the aggregator: it receives usage from every agent over
        ZeroMQ, keeps counters in RocksDB and serves an HTTP API on 127.0.0.1.
        Every other subcommand is a client of that API.
        """,
        version: TollgateVersion.current,
        subcommands: [Serve.self, Usage.self, Report.self, Export.self, BudgetCommand.self, PolicyCommand.self, KeysCommand.self, Audit.self, Agents.self, Anomalies.self, Models.self, Reconcile.self, Keygen.self])
}
