import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct PolicyExcept: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "except",
        abstract: "Exempt a scope from a policy until a time, with a reason and an author (kept in the audit log).",
        discussion: """
        Requests in --scope (and in the policy's own scope) are not subject to the policy
        until --until; then it applies again by itself. `tollgate policy show` lists the
        exceptions, numbered; `tollgate policy unexcept ID N` ends one early.

        Example:
          tollgate policy except dev-no-premium --scope team=research --until 2026-12-20 \\
              --reason "eval of opus for the Q1 plan" --author alice@example.com
        """)

    @Argument(help: "Policy id.")
    var id: String

    @Option(help: "Which requests the exception covers: * or dimension=value pairs, e.g. team=research.")
    var scope: String = "*"

    @Option(help: "Until when: \(TimeArgument.help).")
    var until: String

    @Option(help: "Why the exception is granted.")
    var reason: String

    @Option(help: "Who granted it (default: $USER).")
    var author: String?

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func makeRequest(now: Date = Date()) throws -> PolicyExceptionRequest {
        do {
            _ = try BudgetSelector(parsing: scope)
        } catch {
            throw ValidationError("--scope: \(error)")
        }
        let end = try TimeArgument.parse(until, option: "--until", now: now)
        guard end > Int64(now.timeIntervalSince1970) else {
            throw ValidationError("--until \(until) is not in the future; an exception ends later than now (e.g. +7d or 2026-12-20)")
        }
        let author = author ?? ProcessInfo.processInfo.environment["USER"] ?? ""
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty, !author.isEmpty else {
            throw ValidationError("an exception needs --reason and --author (FinOps reviews read both)")
        }
        return PolicyExceptionRequest(scope: scope, until: end, reason: reason, author: author)
    }

    func run() async throws {
        let request = try makeRequest()
        _ = try await api.send("POST", "/v1/policies/\(id)/exceptions", body: try JSONEncoder().encode(request), token: try auth.token(), actor: who.actor)
        print("policy \(id): \(request.scope) excepted until \(BudgetShow.time(request.until))")
    }
}
