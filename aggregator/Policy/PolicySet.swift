import ArgumentParser
import Foundation
import TollgateAggregator
import TollgateCore

struct PolicySet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Create or replace a policy (its exceptions are kept).",
        discussion: """
        Replaces the whole definition: options left out take their defaults. The aggregator
        checks the policy against the price catalog, the budgets and the other policies
        before storing it, and names what to fix when it refuses.

        Examples:
          tollgate policy set autocomplete-economy --kind route --scope use_case=autocomplete \\
              --models 'claude-*' --to claude-haiku-4-5 --owner platform@example.com
          tollgate policy set dev-no-premium --kind deny --scope env=dev --models tier:premium \\
              --owner finops@example.com --exception-path '#finops-requests'
          tollgate policy set ml-near-cap --kind downgrade --scope team=ml --models gpt-4.1 \\
              --to gpt-4.1-mini --budget ml-daily --at 80
          tollgate policy set try-mini --kind route --models gpt-4o --to gpt-4o-mini --dry-run
        """)

    @Argument(help: "Policy id: 1–64 letters, digits, '-', '_' or '.'.")
    var id: String

    @Option(help: "route, downgrade, allow or deny.")
    var kind: String

    @Option(help: "Which requests: * or dimension=value pairs, e.g. use_case=autocomplete,env=dev.")
    var scope: String = "*"

    @Option(help: "Comma-separated models the policy is about: a model, tier:premium, provider:openai, claude-* or *.")
    var models: String

    @Option(name: .customLong("to"), help: "route/downgrade: the model requests go to (same provider).")
    var target: String?

    @Option(help: "downgrade: the budget whose use switches the rewrite on.")
    var budget: String?

    @Option(help: "downgrade: from this percentage of the budget's limit (1–100), e.g. 80.")
    var at: String?

    @Flag(help: "Change no traffic: agents count what the policy would have routed or refused.")
    var dryRun = false

    @Option(help: "Who answers for the policy (named in refusals).")
    var owner: String = ""

    @Option(help: "How to ask for an exception: a channel, URL or command (named in refusals).")
    var exceptionPath: String = ""

    @Option(help: "What the policy is for.")
    var description: String = ""

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions
    @OptionGroup var who: ActorOptions

    func makePolicy() throws -> Policy {
        guard let kind = Policy.Kind(rawValue: kind) else {
            throw ValidationError("--kind '\(kind)': expected one of \(Policy.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let selector: BudgetSelector
        do {
            selector = try BudgetSelector(parsing: scope)
        } catch {
            throw ValidationError("--scope: \(error)")
        }
        let patterns: [ModelPattern]
        do {
            patterns = try models.split(separator: ",").map { try ModelPattern(parsing: String($0)) }
        } catch {
            throw ValidationError("--models: \(error)")
        }
        guard !patterns.isEmpty else { throw ValidationError("--models: name at least one model, tier:NAME, provider:NAME, prefix* or *") }
        if kind.rewrites, target == nil { throw ValidationError("a \(kind.rawValue) policy needs --to MODEL (the model requests go to)") }
        if !kind.rewrites, target != nil { throw ValidationError("--to is for route and downgrade; an \(kind.rawValue) policy admits or refuses") }
        if kind == .downgrade, budget == nil || at == nil {
            throw ValidationError("a downgrade needs --budget ID and --at PERCENT (e.g. --budget ml-daily --at 80)")
        }
        if kind != .downgrade, budget != nil || at != nil { throw ValidationError("--budget and --at are for downgrade policies") }
        var threshold = 0
        if let at {
            let digits = at.hasSuffix("%") ? String(at.dropLast()) : at
            guard let value = Int(digits.trimmingCharacters(in: .whitespaces)), (1...100).contains(value) else {
                throw ValidationError("--at '\(at)': expected a percentage of the budget's limit from 1 to 100, e.g. 80")
            }
            threshold = value
        }
        return Policy(id: id, kind: kind, scope: selector, models: patterns, target: target ?? "", budgetID: budget ?? "",
                      thresholdPercent: threshold, mode: dryRun ? .dryRun : .enforce, owner: owner, exceptionPath: exceptionPath,
                      description: description)
    }

    /// The PUT body: the policy without `exceptions`, so the aggregator keeps the current ones.
    static func body(_ policy: Policy) throws -> Data {
        guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(policy)) as? [String: Any] else {
            throw CLIError("cannot encode the policy")
        }
        object["exceptions"] = nil
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    func run() async throws {
        let policy = try makePolicy()
        let data = try await api.send("PUT", "/v1/policies/\(policy.id)", body: try Self.body(policy), token: try auth.token(), actor: who.actor)
        let view = try JSONDecoder().decode(PolicyView.self, from: data)
        switch format {
        case .json: try printJSON(view)
        case .table:
            print("policy \(view.policy.id): \(view.change ?? "saved")")
            print(PolicyTable(views: [view], now: Int64(Date().timeIntervalSince1970)).render())
        }
    }
}
