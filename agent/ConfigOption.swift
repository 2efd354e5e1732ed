import ArgumentParser
import TollgateAgent

/// The `--config` option every agent command shares, and loading it: a config error is
/// reported like a usage error, naming the key and the fix.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Path of the agent's YAML config.")
    var config: String = "/etc/tollgate/agent.yaml"

    func load() throws -> AgentConfig {
        do {
            return try AgentConfig(file: config)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
