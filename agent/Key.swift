import ArgumentParser
import TollgateAgent

struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print this agent's CurveZMQ public key, creating its keypair if needed.",
        discussion: """
        Copy the output into the aggregator's curve.authorized_keys_dir as <agent-name>.pub
        to admit this agent. The secret half stays in the agent's state directory (mode 0600).
        """)

    @Option(name: .shortAndLong, help: "Path of the agent's YAML config.")
    var config: String = "/etc/tollgate/agent.yaml"

    func run() throws {
        let settings: AgentConfig
        do {
            settings = try AgentConfig(file: config)
        } catch {
            throw ValidationError("\(error)")
        }
        guard case .curve(_, let secretKeyFile) = settings.aggregatorSecurity else {
            throw ValidationError("this agent ships in plaintext (aggregator.insecure_plaintext: true); it has no key")
        }
        print(try AgentKeys.loadOrCreate(secretKeyFile: secretKeyFile).publicKey)
    }
}
