import ArgumentParser
import TollgateAgent

struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print this agent's CurveZMQ public key, creating its keypair if needed.",
        discussion: """
        Copy the output into the aggregator's curve.authorized_keys_dir as <agent-name>.pub
        to admit this agent. The secret half stays in the agent's state directory (mode 0600).
        """)

    @OptionGroup var options: ConfigOption

    func run() throws {
        let settings = try options.load()
        guard case .curve(_, let secretKeyFile) = settings.aggregatorSecurity else {
            throw ValidationError("this agent ships in plaintext (aggregator.insecure_plaintext: true); it has no key")
        }
        print(try AgentKeys.loadOrCreate(secretKeyFile: secretKeyFile).publicKey)
    }
}
