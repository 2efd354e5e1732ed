import ArgumentParser
import TollgateWire

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a CurveZMQ keypair for the aggregator's usage channel.",
        discussion: """
        The usage channel between agents and the aggregator is encrypted and authenticated
        with CurveZMQ. Set up once:

          tollgate keygen --secret-key-file /etc/tollgate/aggregator.key \\
                          --public-key-file /etc/tollgate/aggregator.pub

        Point the aggregator's curve.secret_key_file at the secret file (mode 0600, never
        leaves this host) and copy the public file to every agent (its
        aggregator.server_public_key_file). Each agent makes its own keypair on first start;
        `tollgate-agent key` prints its public key, which goes into the aggregator's
        curve.authorized_keys_dir as <agent-name>.pub (picked up within seconds).
        Existing files are never overwritten.
        """)

    @Option(help: "Where to write the secret key (created with mode 0600).")
    var secretKeyFile: String

    @Option(help: "Where to write the public key (mode 0644).")
    var publicKeyFile: String

    func run() throws {
        let keyPair = try CurveKeyPair.generate()
        try keyPair.write(secretKeyTo: secretKeyFile, publicKeyTo: publicKeyFile)
        print("secret key: \(secretKeyFile)\npublic key: \(publicKeyFile) (\(keyPair.publicKey))")
    }
}
