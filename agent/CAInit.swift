import ArgumentParser
import Foundation
import TollgateAgent

extension Ca {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the agent's CA in <state_dir>/ca/ (the key is mode 0600).",
            discussion: """
            Refuses to replace an existing CA: clients already trust it. Then trust ca.crt
            wherever the clients run:

              curl        curl --cacert <state_dir>/ca/ca.crt …   or   CURL_CA_BUNDLE=<path>
              Python      SSL_CERT_FILE=<path> (ssl, httpx, openai) and REQUESTS_CA_BUNDLE=<path> (requests)
              Node        NODE_EXTRA_CA_CERTS=<path>   (added to Node's built-in roots)
              Debian      cp ca.crt /usr/local/share/ca-certificates/tollgate-agent.crt && update-ca-certificates

            SSL_CERT_FILE, REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE replace the default roots, so point
            them at a bundle that contains both the system roots and ca.crt (after the Debian step,
            /etc/ssl/certs/ca-certificates.crt is such a bundle) if the client also talks to hosts
            the agent does not intercept.

            Anyone holding ca.key can impersonate any host to these clients: keep it on this host
            and mode 0600. `tollgate-agent ca export` prints the certificate to copy elsewhere.
            """)

        @Option(name: .shortAndLong, help: "Path of the agent's YAML config.")
        var config: String = "/etc/tollgate/agent.yaml"

        func run() throws {
            let directory = try Ca.directory(config: config)
            // Not a ValidationError: "already exists" is not a usage mistake, so no usage hint.
            try CertificateAuthority.create().write(to: directory)
            let certificate = (directory as NSString).appendingPathComponent(CertificateAuthority.certificateFileName)
            print("""
            Created the agent's CA:
              \(certificate)
            Trust it, e.g.:
              curl --cacert \(certificate) …
              export SSL_CERT_FILE=\(certificate) REQUESTS_CA_BUNDLE=\(certificate) NODE_EXTRA_CA_CERTS=\(certificate)
              cp \(certificate) /usr/local/share/ca-certificates/tollgate-agent.crt && update-ca-certificates
            (`tollgate-agent ca init --help` explains each.)
            """)
        }
    }

    /// `<state_dir>/ca`, where `ca init` writes and the proxy reads.
    static func directory(config: String) throws -> String {
        do {
            return (try AgentConfig(file: config).stateDirectory as NSString).appendingPathComponent("ca")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
