import ArgumentParser
import TollgateCore

@main
struct TollgateAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate-agent",
        abstract: "Meters and caps LLM API traffic on this host.",
        discussion: """
        Point tools at the agent with a base URL, e.g.
          OPENAI_BASE_URL=http://127.0.0.1:8787/openai/v1
        It forwards each call to the provider, counts tokens and cost, and ships usage to
        the aggregator. See agent/tollgate-agent.example.yaml for every setting.
        """,
        version: TollgateVersion.current,
        subcommands: [Run.self, Status.self, Key.self, Prices.self, Ca.self],
        defaultSubcommand: Run.self)
}
