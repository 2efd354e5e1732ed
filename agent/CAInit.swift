import ArgumentParser
import Foundation
import TollgateAgent

extension Ca {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the agent's CA in <state_dir>/ca/ (the key is mode 0600).",
            discussion: """
            Refuses to replace an existing CA: clients already trust it. Then make the
            clients trust <state_dir>/ca/ca.crt:

              curl     curl --cacert ca.crt …, or CURL_CA_BUNDLE=ca.crt
              Python   SSL_CERT_FILE=ca.crt (ssl, httpx, openai, anthropic)
                       REQUESTS_CA_BUNDLE=ca.crt (requests)
              Node     NODE_EXTRA_CA_CERTS=ca.crt (added to Node's own roots)
              Debian   cp ca.crt /usr/local/share/ca-certificates/tollgate-agent.crt
                       update-ca-certificates

            CURL_CA_BUNDLE, SSL_CERT_FILE and REQUESTS_CA_BUNDLE replace the default
            roots. If a client also talks to hosts the agent does not intercept, point
            them at a bundle holding the system roots and ca.crt; after the Debian step,
            /etc/ssl/certs/ca-certificates.crt is one.

            Anyone holding ca.key can impersonate any host to those clients: it stays
            on this host, mode 0600. `tollgate-agent ca export` prints the certificate
            for other machines.
            """)

        @OptionGroup var options: ConfigOption

        func run() throws {
            let directory = try Ca.directory(config: options)
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

    /// The CA directory of the agent that `config` describes.
    static func directory(config: ConfigOption) throws -> String {
        CertificateAuthority.directory(stateDirectory: try config.load().stateDirectory)
    }
}
