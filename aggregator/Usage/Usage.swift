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
          tollgate usage --since 24h --by model,served_model,requested_model
          tollgate usage --since 7d --by team --format json
          tollgate usage --since 2026-11-01T00:00:00Z --until 2026-12-01T00:00:00Z --by team
        model is the canonical model (the price catalog's id, e.g. gpt-4.1), whatever alias
        was requested or snapshot served; served_model is the name the provider returned
        (empty when it named none: errors, blocked and cut requests) and requested_model the
        name the request used.
        Times: \(TimeArgument.help).
        JSON gives one object per group: its dimensions, requests, the token classes,
        cost_nanousd (exact integer) and cost_usd (decimal string).
        """)

    @Option(help: "Start of the window: \(TimeArgument.help).")
    var since: String = "24h"

    @Option(help: "End of the window: \(TimeArgument.help). Default: now.")
    var until: String = "now"

    @Option(help: "Comma-separated dimensions to group by.")
    var by: String = "key,model"

    @Option(name: .customLong("where"), help: "Only usage where DIMENSION=VALUE (e.g. team=ml); repeat to narrow further.")
    var filters: [String] = []

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let dimensions: [UsageDimension]
        do {
            dimensions = try UsageDimension.parseList(by)
        } catch {
            throw ValidationError("--by: \(error)")
        }
        let parsedFilters: [UsageFilter]
        do {
            parsedFilters = try filters.map { try UsageFilter(parsing: $0) }
        } catch {
            throw ValidationError("--where: \(error)")
        }
        let now = Date()
        let start = try TimeArgument.parse(since, option: "--since", now: now)
        let end = try TimeArgument.parse(until, option: "--until", now: now)
        guard end >= start else { throw ValidationError("--until (\(until)) is before --since (\(since))") }
        let token = try auth.token()
        let data = try await api.get("/v1/usage", query: [
            URLQueryItem(name: "since", value: String(start)),
            URLQueryItem(name: "until", value: String(end)),
            URLQueryItem(name: "by", value: dimensions.map(\.rawValue).joined(separator: ",")),
        ] + parsedFilters.map { URLQueryItem(name: $0.dimension.rawValue, value: $0.value) }, token: token)
        let rows = try JSONDecoder().decode([UsageRow].self, from: data)
        switch format {
        case .json:
            try printJSON(rows)
        case .table:
            print(UsageTable(rows: rows, dimensions: dimensions).render())
        }
    }
}
