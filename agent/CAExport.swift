import ArgumentParser
import TollgateAgent

extension Ca {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the agent's CA certificate (PEM) to stdout.",
            discussion: """
            Use it to trust the agent on other machines or containers whose traffic goes through
            it, e.g. `tollgate-agent ca export > tollgate-agent.crt`. Only the certificate is
            printed; the key never leaves <state_dir>/ca/.
            """)

        @OptionGroup var options: ConfigOption

        func run() throws {
            print(try CertificateAuthority.certificatePEM(in: try Ca.directory(config: options)))
        }
    }
}
