import Testing
@testable import TollgateCore

@Suite struct ConfigNodeTests {
    @Test func readsNestedValuesWithDefaults() throws {
        let root = try ConfigNode(yaml: "listen: 127.0.0.1:9000\nmeter:\n  flush_interval_ms: 500\n", source: "t")
        #expect(try root.hostPort("listen", default: HostPort(host: "x", port: 1)) == HostPort(host: "127.0.0.1", port: 9000))
        #expect(try root.section("meter")?.int("flush_interval_ms", default: 250, range: 10...1000) == 500)
        #expect(try root.string("absent", default: "d") == "d")
    }

    @Test func rejectsTyposNamingTheFullKey() throws {
        let root = try ConfigNode(yaml: "meter:\n  flush_intervall_ms: 5\n", source: "t")
        #expect(throws: ConfigError.unknownKey(key: "meter.flush_intervall_ms", allowed: ["flush_interval_ms"])) {
            try root.section("meter")?.rejectUnknownKeys(allowed: ["flush_interval_ms"])
        }
    }

    @Test func rejectsOutOfRangeNumbers() throws {
        let root = try ConfigNode(yaml: "n: 5000000\n", source: "t")
        #expect(throws: ConfigError.self) { try root.int("n", default: 1, range: 1...10) }
    }

    @Test func reportsSyntaxErrorsWithTheFile() {
        #expect { try ConfigNode(yaml: "a: [unclosed\n", source: "broken.yaml") } throws: { error in
            guard case ConfigError.syntax(let file, _) = error else { return false }
            return file == "broken.yaml"
        }
    }

    @Test func parsesHostPorts() {
        #expect(HostPort("[::1]:8787") == HostPort(host: "::1", port: 8787))
        #expect(HostPort("localhost") == nil)
        #expect(HostPort(":80") == nil)
        #expect(HostPort("a:70000") == nil)
    }
}

/// Secrets handed over by systemd's `LoadCredential=` are named `${CREDENTIALS_DIRECTORY}/…`.
@Suite struct CredentialsDirectoryTests {
    @Test func expandsTheCredentialsDirectoryInNestedValues() throws {
        let root = try ConfigNode(yaml: "org_secret_file: ${CREDENTIALS_DIRECTORY}/org-secret\ncurve:\n  secret_key_file: ${CREDENTIALS_DIRECTORY}/aggregator.key\n",
                                  source: "t", environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/tollgate.service/"])
        #expect(try root.optionalString("org_secret_file") == "/run/credentials/tollgate.service/org-secret")
        #expect(try root.section("curve")?.requiredString("secret_key_file", expected: "x") == "/run/credentials/tollgate.service/aggregator.key")
    }

    @Test func leavesOtherValuesAndVariablesAlone() throws {
        let root = try ConfigNode(yaml: "a: /etc/tollgate/org-secret\nb: ${HOME}/x\n", source: "t", environment: ["HOME": "/root"])
        #expect(try root.optionalString("a") == "/etc/tollgate/org-secret")
        #expect(try root.optionalString("b") == "${HOME}/x")
    }

    @Test func outsideSystemdTheErrorNamesTheKeyAndTheFix() throws {
        let root = try ConfigNode(yaml: "curve:\n  secret_key_file: ${CREDENTIALS_DIRECTORY}/aggregator.key\n", source: "t", environment: [:])
        #expect { try root.section("curve")?.optionalString("secret_key_file") } throws: { error in
            guard case ConfigError.invalid(let key, _, let expected) = error else { return false }
            return key == "curve.secret_key_file" && expected.contains("LoadCredential=")
        }
    }
}
