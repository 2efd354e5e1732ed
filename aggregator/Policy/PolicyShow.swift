import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct PolicyShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One policy: definition, exceptions (numbered, for `policy unexcept`), fleet hits, agents that rejected it, and its history.")

    @Argument(help: "Policy id.")
    var id: String

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let token = try auth.token()
        let view = try JSONDecoder().decode(PolicyView.self, from: try await api.send("GET", "/v1/policies/\(id)", token: token))
        guard format == .table else { return try printJSON(view) }
        let policy = view.policy
        let now = Int64(Date().timeIntervalSince1970)
        var lines = [
            "policy          \(policy.id)\(policy.description.isEmpty ? "" : " — \(policy.description)")",
            "kind            \(PolicyTable.kind(policy))",
            "scope           \(policy.scope)",
            "models          \(PolicyTable.models(policy))",
            "mode            \(policy.mode == .dryRun ? "dry_run (changes no traffic; counts what it would do)" : "enforce")",
            "owner           \(policy.owner.isEmpty ? "-" : policy.owner)",
            "exception path  \(policy.exceptionPath.isEmpty ? "-" : policy.exceptionPath)",
            "hits            routed \(view.hits.routed), refused \(view.hits.refused); dry-run routed \(view.hits.dryRunRouted), refused \(view.hits.dryRunRefused)",
        ]
        lines.append(policy.exceptions.isEmpty ? "exceptions      none" : "exceptions")
        for (index, exception) in policy.exceptions.enumerated() {
            let state = exception.untilUnix > now ? "active" : "ended"
            lines.append("  [\(index)] \(exception.scope) until \(BudgetShow.time(exception.untilUnix)) (\(state)), by \(exception.author) at \(BudgetShow.time(exception.createdUnix)): \(exception.reason)")
        }
        lines.append(view.rejectedBy.isEmpty ? "rejected by     no agent" : "rejected by")
        for rejection in view.rejectedBy {
            lines.append("  \(rejection.name ?? rejection.agentID): \(rejection.reason)")
        }
        print(lines.joined(separator: "\n"))
        // The audit trail is part of the answer when this token may read it; never a reason to fail.
        if let entries = try? await Audit.fetch(api: api, token: token, target: "policy:\(id)", since: nil, until: nil, limit: 100_000), !entries.isEmpty {
            print("history")
            print(AuditTable(entries: entries).render())
        }
    }
}
