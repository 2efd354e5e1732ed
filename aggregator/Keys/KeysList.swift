import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

/// How `tollgate keys list` prints: a table for people, JSON or CSV for machines.
enum KeysFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every key the aggregator has seen: label, first and last seen, spend this month.",
        discussion: """
        Unlabelled keys come first (they are the ones to name), then by spend this calendar
        month (UTC), highest first. Times are UTC. JSON gives the API's objects (exact
        month_cost_nanousd); CSV one row per key with a header.
        """)

    @Option(help: "Output format: table, json or csv.")
    var format: KeysFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let keys = try await Self.fetch(api: api, token: try auth.token())
        switch format {
        case .json: try printJSON(keys)
        case .csv: print(KeysTable(keys: keys).csv(), terminator: "")
        case .table: print(KeysTable(keys: keys).render())
        }
    }

    static func fetch(api: APIOptions, token: String) async throws -> [KeyView] {
        try JSONDecoder().decode([KeyView].self, from: try await api.get("/v1/keys", query: [], token: token))
    }
}
