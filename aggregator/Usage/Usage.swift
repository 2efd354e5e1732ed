import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct Usage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show spend and tokens, grouped by dimensions.",
        discussion: """
        Totals cover every minute in the window. Dimensions: \(UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")).

        Examples:
          tollgate usage --since 24h --by key,model
          tollgate usage --since 7d --by team --format json
        JSON gives one object per group: its dimensions, requests, the token classes,
        cost_nanousd (exact integer) and cost_usd (decimal string).
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "Start of the window: a duration back from now (30m, 24h, 7d) or a Unix time.")
    var since: String = "24h"

    @Option(help: "Comma-separated dimensions to group by.")
    var by: String = "key,model"

    @Option(help: "Output format: table or json.")
    var format: Format = .table

    @OptionGroup var api: APIOptions

    func run() async throws {
        let dimensions: [UsageDimension]
        do {
            dimensions = try UsageDimension.parseList(by)
        } catch {
            throw ValidationError("--by: \(error)")
        }
        let start = try TimeWindowStart.parse(since, now: Date())
        let data = try await api.get("/v1/usage", query: [
            URLQueryItem(name: "since", value: String(start)),
            URLQueryItem(name: "by", value: dimensions.map(\.rawValue).joined(separator: ",")),
        ])
        let rows = try JSONDecoder().decode([UsageRow].self, from: data)
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        case .table:
            print(UsageTable(rows: rows, dimensions: dimensions).render())
        }
    }
}

/// Parses `--since`: `90s`, `30m`, `24h`, `7d` back from now, or a Unix time in seconds.
enum TimeWindowStart {
    static func parse(_ text: String, now: Date) throws -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        if let unit = text.last, let seconds = units[unit], let count = Int64(text.dropLast()), count >= 0 {
            return Int64(now.timeIntervalSince1970) - count * seconds
        }
        if let unix = Int64(text) { return unix }
        throw ValidationError("--since '\(text)': expected a duration like 30m, 24h or 7d, or a Unix time in seconds")
    }
}
