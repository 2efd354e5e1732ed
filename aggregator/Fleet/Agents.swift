import ArgumentParser
import Foundation
import TollgateAggregator

struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every agent that has connected, and whether it ships and enforces.",
        discussion: """
        Agents report to the aggregator on the usage channel when they connect and every
        fleet.report_interval_ms (5 s by default). STATE is, from the latest report:
          enforcing         it holds a quota state fresher than its quota.stale_after_ms
          stale             its quota state is older than that: it enforces old budgets
                            (or refuses everything, with quota.on_stale: deny)
          never_subscribed  it has received no quota state since it started, so no
                            budget applies on that host: check quota.endpoint and that
                            the aggregator's quota_listen is reachable from it
          unknown           it ships usage but sends no reports (an older agent)
          offline           silent for three report intervals, or not heard from since
                            the aggregator started: it is down, or cannot reach the
                            aggregator and spools (BACKLOG shows how much, once back)
        LAST BATCH is when its last batch arrived; SEQ the last batch applied. BACKLOG is
        what it has spooled and not yet had acknowledged (! when over spool.max_bytes).
        QUOTA is the version of its quota state and how old it is. REJECTED lists the
        policies it received and could not apply (it keeps their previous version; JSON's
        rejected_policies gives each reason; `tollgate policy show ID` too).

        Examples:
          tollgate agents
          tollgate agents --state never_subscribed,stale
          tollgate agents --format json
        JSON gives every field of GET /v1/agents, ages in milliseconds.
        """)

    @Option(help: "Only agents in these states (comma-separated): \(AgentState.allCases.map(\.rawValue).joined(separator: ", ")).")
    var state: String?

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var api: APIOptions
    @OptionGroup var auth: TokenOptions

    func run() async throws {
        let wanted = try state.map(Self.parseStates)
        let data = try await api.send("GET", "/v1/agents", token: try auth.token())
        var agents = try JSONDecoder().decode([AgentView].self, from: data)
        if let wanted { agents = agents.filter { wanted.contains($0.state) } }
        switch format {
        case .json: try printJSON(agents)
        case .table: print(AgentTable(agents: agents).render())
        }
    }

    static func parseStates(_ text: String) throws -> Set<AgentState> {
        Set(try text.split(separator: ",").map { name in
            let name = name.trimmingCharacters(in: .whitespaces)
            guard let state = AgentState(rawValue: name) else {
                throw ValidationError("--state: unknown state '\(name)'; use \(AgentState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return state
        })
    }
}
