import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct Usage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show spend and tokens, grouped by dimensions, over a window or as a time series.",
        discussion: """
        Rows are sorted by cost, highest first (per bucket in a series).
        Dimensions: \(UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")).

        Examples:
          tollgate usage --since 24h --by key,model
          tollgate usage --since 2026-11-01 --until 2026-12-01 --by team \\
              --format csv > november.csv
          # which workflows grow, week over week
          tollgate usage --since 2026-11-02 --every week --by use_case
          # the 5 costliest models, then who uses one of them
          tollgate usage --since 30d --by model --top 5
          tollgate usage --since 30d --by user,key --where model=gpt-4.1
          tollgate usage --since 7d --every day --by team --where env=prod

        The window is [--since, --until): every minute that starts before
        --until and ends after --since, so --since 2026-11-01 --until
        2026-12-01 is November exactly and adjacent windows never overlap.
        Times: \(TimeArgument.help).

        --every splits the window into UTC calendar buckets (weeks start on
        Monday); the first and last may be partial. Totals are the same
        whichever --every you choose. --top N keeps the N costliest groups
        (per bucket) and sums the rest into one "(other: K)" row, so totals
        still add up.

        model is the canonical model (the price catalog's id, e.g. gpt-4.1),
        whatever alias was requested or snapshot served; served_model is the
        name the provider returned (empty when it named none: errors, blocked
        and cut requests) and requested_model the name the request used.

        Policies (tollgate policy): requested_model is what was asked and
        model what was served, so --by requested_model,model shows every
        route. When any row was routed, the table adds ROUTED, ROUTED % (of
        its requests) and AVOIDED: what routing saved, the cost at the
        requested model's price minus the cost (json/csv: routed,
        routing_savings_usd). --by team,tier groups by the served model's
        tier (premium, standard, economy; untiered) from the aggregator's
        price catalog, with SHARE, each tier's part of its team's cost: the
        premium-model share by team. --where tier=premium keeps one tier.
          tollgate usage --since 30d --by use_case,requested_model,model
          tollgate usage --since 30d --by team,tier

        Formats: table (for people, with a TOTAL row); json (one object per
        row: dimensions, requests, the token classes, cost_nanousd as an exact
        integer and cost_usd as a decimal string); csv (RFC 4180: a header
        row, CRLF line ends, the JSON's column names, cost_usd in exact decimal
        dollars, no TOTAL row).
        """)

    @Option(help: "Start of the window: \(TimeArgument.help).")
    var since: String = "24h"

    @Option(help: "End of the window, exclusive: the same forms as --since. Default: now.")
    var until: String?

    @Option(help: "Split the window into time buckets: \(UsageBucket.allCases.map(\.rawValue).joined(separator: ", ")) (UTC).")
    var every: UsageBucket?

    @Option(help: "Comma-separated dimensions to group by.")
    var by: String = "key,model"

    @Option(name: .customLong("where"), parsing: .singleValue,
            help: "Only usage where DIMENSION=VALUE (e.g. team=ml); repeat for several dimensions (all must match).")
    var filters: [String] = []

    @Option(help: "Keep the N costliest groups (per bucket) and fold the rest into one 'other' row.")
    var top: Int?

    @Option(help: "Output format: table, json or csv.")
    var format: UsageFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let request = try UsageRequest(since: since, until: until, every: every, by: by, filters: filters, top: top, now: Date())
        let rows = try JSONDecoder().decode([UsageRow].self, from: try await api.get("/v1/usage", query: request.queryItems, token: try auth.token()))
        switch format {
        case .json:
            try printJSON(rows)
        case .csv:
            print(UsageCSV(dimensions: request.dimensions, series: every != nil, top: top != nil, tier: request.byTier).render(rows), terminator: "")
        case .table:
            print(UsageTable(rows: rows, dimensions: request.dimensions, every: every, byTier: request.byTier).render())
        }
    }
}

/// `tollgate usage` prints a table for people, JSON or CSV for machines.
enum UsageFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

extension UsageBucket: ExpressibleByArgument {}
