import ArgumentParser
import Foundation
import TollgateAggregator

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit log: every change made through the API, who made it, before and after.",
        discussion: """
        Every change to budgets (set, remove, exemptions), key labels and spend policies (set,
        remove, exceptions) is recorded by the aggregator: when, which token (admin), the
        actor the client named (--actor, by default $USER@host), the action, the target
        (budget:<id>, key:<key id>, policy:<id>) and the target before and after, as JSON.
        Oldest first.

        Examples:
          tollgate audit --since 7d
          tollgate audit --target budget:ml-daily
          tollgate audit --target key: --format json     # every key-label change
          tollgate audit --target policy: --since 90d    # policy changes and exceptions, for a FinOps review
        Times: \(TimeArgument.help).
        """)

    @Option(help: "Only this target (budget:<id>, key:<key id>, policy:<id>), or every target of a kind (budget:, key:, policy:).")
    var target: String?

    @Option(help: "Start of the window: \(TimeArgument.help). Default: the beginning.")
    var since: String?

    @Option(help: "End of the window: \(TimeArgument.help). Default: now.")
    var until: String?

    @Option(help: "At most the newest N entries.")
    var limit: Int = 1_000

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let entries = try await Self.fetch(api: api, token: try auth.token(), target: target, since: since, until: until, limit: limit)
        switch format {
        case .json: try printJSON(entries)
        case .table: print(AuditTable(entries: entries).render())
        }
    }

    static func fetch(api: APIOptions, token: String, target: String?, since: String?, until: String?, limit: Int) async throws -> [AuditEntry] {
        let now = Date()
        var query = [URLQueryItem(name: "limit", value: String(limit))]
        if let target { query.append(URLQueryItem(name: "target", value: target)) }
        if let since { query.append(URLQueryItem(name: "since", value: String(try TimeArgument.parse(since, option: "--since", now: now)))) }
        if let until { query.append(URLQueryItem(name: "until", value: String(try TimeArgument.parse(until, option: "--until", now: now)))) }
        return try JSONDecoder().decode([AuditEntry].self, from: try await api.get("/v1/audit", query: query, token: token))
    }
}
