import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct ExportFocus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "focus",
        abstract: "Write usage as FOCUS 1.3 CSV: one row per UTC day, key, model and token class.",
        discussion: """
        FOCUS (FinOps Open Cost and Usage Specification) is the format cloud bills are read
        in: load the file beside your AWS, Azure or GCP FOCUS data. Each row is one UTC day's
        tokens of one class (input, cached_input, cache_write, cache_write_1h, output,
        reasoning) for one API key and model, with its set of tags:
          BilledCost = EffectiveCost   this class's exact part of the metered cost
          ListCost, ListUnitPrice      the price catalog's standard rate per million tokens
          ConsumedQuantity             tokens; PricingQuantity in millions of tokens
          ResourceId / ResourceName    the key id and its hint (never the key)
          Tags                         {"team","project","user","use_case","env"} as set
          x_ModelId, x_TokenDirection, x_TokenCacheAction, x_TokenClass, x_CostSource
        The BilledCost column sums exactly to `tollgate usage` over the same range. The
        store holds one cost per minute cell: it is split over the classes in proportion to
        their list cost, the rounding remainder on the class with the largest. x_CostSource
        is "estimated" for rows whose day included estimated or unpriced requests.

        Examples:
          tollgate export focus --from 2026-11-01 --to 2026-12-01 --output november-focus.csv
          tollgate export focus --from 7d --to now > last-week.csv
        Times: a UTC date (2026-11-01, its midnight), or \(TimeArgument.help).
        The file is written owner-only (0600): it shows spend per key. Needs the API token.
        """)

    @Option(help: "Start of the range (inclusive): a UTC date (2026-11-01) or a time.")
    var from: String

    @Option(help: "End of the range (exclusive): a UTC date (2026-12-01) or a time.")
    var to: String

    @Option(help: "Write the CSV to this file (owner-only) instead of standard output.")
    var output: String?

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let range: ExportRange
        do {
            range = try ExportRange(from: from, to: to, now: Int64(Date().timeIntervalSince1970))
        } catch {
            throw ValidationError("--from/--to: \(error)")
        }
        let query = "from=\(range.from)&to=\(range.to)"
        let data = try await api.send("GET", "/v1/export/focus?" + query, token: try auth.token())
        guard let output else {
            FileHandle.standardOutput.write(data)
            return
        }
        // Created owner-only before anything is written: the file names spend per key.
        guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: output) else {
            throw CLIError("cannot write --output \(output): check that its directory exists and is writable")
        }
        try handle.write(contentsOf: data)
        try handle.close()
    }
}
