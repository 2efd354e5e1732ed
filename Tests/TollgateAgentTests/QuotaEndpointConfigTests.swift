import Foundation
import Testing
@testable import TollgateAgent

/// The agent finds the quota channel by the aggregator's own rule (usage endpoint's host,
/// port + 2), so a fleet configured with nothing but `aggregator.endpoint` hears its budgets.
@Suite struct QuotaEndpointConfigTests {
    /// An agent config with a real org secret file and the given extra YAML.
    func config(_ yaml: String) throws -> AgentConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quota-endpoint-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0123456789abcdef0123456789abcdef".write(toFile: directory + "/org-secret", atomically: true, encoding: .utf8)
        return try AgentConfig(yaml: "org_secret_file: \(directory)/org-secret\nstate_dir: \(directory)/state\n" + yaml)
    }

    @Test func byDefaultTheQuotaChannelIsTheUsageHostAtPortPlusTwo() throws {
        #expect(try config("aggregator:\n  insecure_plaintext: true\n").resolvedQuotaEndpoint == "tcp://127.0.0.1:7602")
        let fleet = try config("aggregator:\n  endpoint: tcp://10.231.0.2:7600\n  insecure_plaintext: true\n")
        #expect(fleet.resolvedQuotaEndpoint == "tcp://10.231.0.2:7602")
        let named = try config("aggregator:\n  endpoint: tcp://tollgate.internal:41000\n  insecure_plaintext: true\n")
        #expect(named.resolvedQuotaEndpoint == "tcp://tollgate.internal:41002")
    }

    @Test func quotaEndpointOverridesTheRule() throws {
        let config = try config("""
            aggregator:
              endpoint: tcp://10.231.0.2:7600
              insecure_plaintext: true
            quota:
              endpoint: tcp://10.231.0.3:9000
            """)
        #expect(config.resolvedQuotaEndpoint == "tcp://10.231.0.3:9000")
    }

    @Test func aUsagePortWithNoPortPlusTwoNeedsAnExplicitQuotaEndpoint() throws {
        #expect { try config("aggregator:\n  endpoint: tcp://10.231.0.2:65535\n  insecure_plaintext: true\n") } throws: { error in
            "\(error)".contains("'quota.endpoint'") && "\(error)".contains("65535")
        }
        let explicit = try config("aggregator:\n  endpoint: tcp://10.231.0.2:65535\n  insecure_plaintext: true\nquota:\n  endpoint: tcp://10.231.0.2:65000\n")
        #expect(explicit.resolvedQuotaEndpoint == "tcp://10.231.0.2:65000")
    }
}
