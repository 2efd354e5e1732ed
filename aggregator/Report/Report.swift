import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

/// How `tollgate report` prints: a table for people, CSV for a spreadsheet, JSON for programs.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Monthly showback: each team's spend, share, budget and change since the month before.",
        discussion: """
        One row per value of --by (team unless told) for a UTC calendar month, and a TOTAL:
          SPEND       what the month cost (every priced request the agents metered)
          SHARE       its part of the month's total
          BUDGET      the USD budget whose selector is exactly that value (e.g. team=ml),
                      scaled to the month: a day budget × the month's days, a week budget
                      × days / 7, an hour budget × 24 × days; "no budget" if none. With
                      several, the tightest. TOTAL's is an org-wide budget (selector *).
          USED        spend as a percentage of that budget (over 100 % is over budget)
          CHANGE      against the month before, in dollars and percent
          TOP MODELS, TOP USE CASES   where the money went (three of each)
          ESTIMATED   the part of spend from requests whose usage was estimated (cut
                      short or not reported), apportioned by request count

        Examples:
          tollgate report --month 2026-11
          tollgate report --month 2026-11 --by project --format csv > november.csv
          tollgate report --month 2026-11 --format json
        A month with no usage prints a report of zeros. Needs the API token (--token-file or
        TOLLGATE_TOKEN).
        """)

    @Option(help: "The UTC calendar month, YYYY-MM (e.g. 2026-11).")
    var month: String

    @Option(help: "The dimension to report by: one of \(UsageDimension.allCases.map(\.rawValue).joined(separator: ", ")).")
    var by: String = "team"

    @Option(help: "Output format: table, csv or json.")
    var format: ReportFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func validate() throws {
        do {
            _ = try ReportMonth(parsing: month)
        } catch {
            throw ValidationError("--month: \(error)")
        }
        guard UsageDimension(rawValue: by) != nil else {
            throw ValidationError("--by: \(UsageDimensionError.unknown(by))")
        }
    }

    func run() async throws {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "month", value: month), URLQueryItem(name: "by", value: by)]
        let data = try await api.send("GET", "/v1/report?" + (components.percentEncodedQuery ?? ""), token: try auth.token())
        let report = try JSONDecoder().decode(ShowbackReport.self, from: data)
        switch format {
        case .json: try printJSON(report)
        case .csv: print(ReportTable(report: report).csv(), terminator: "")
        case .table: print(ReportTable(report: report).render())
        }
    }
}
