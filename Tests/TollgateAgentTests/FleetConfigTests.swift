import Foundation
import Testing
import TollgateCore
@testable import TollgateAgent

/// `fleet:` in the agent config: how the agent appears in `tollgate agents`, and how often it reports.
@Suite struct FleetConfigTests {
    static func config(_ fleet: String) throws -> AgentConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0123456789abcdef0123456789abcdef".write(toFile: directory + "/org-secret", atomically: true, encoding: .utf8)
        return try AgentConfig(yaml: """
        org_secret_file: \(directory)/org-secret
        aggregator:
          insecure_plaintext: true
        \(fleet)
        """)
    }

    @Test func defaultsAreTheHostNameAndFiveSeconds() throws {
        let config = try Self.config("")
        #expect(config.fleetName == AgentConfig.hostName && !config.fleetName.isEmpty)
        #expect(config.reportInterval == .seconds(5))
    }

    @Test func nameAndIntervalAreRead() throws {
        let config = try Self.config("fleet:\n  name: ci-runner-7\n  report_interval_ms: 1500")
        #expect(config.fleetName == "ci-runner-7")
        #expect(config.reportInterval == .milliseconds(1_500))
    }

    @Test(arguments: [
        ("fleet:\n  name: \"\"", "fleet.name"),
        ("fleet:\n  name: \"tab\\there\"", "fleet.name"),
        ("fleet:\n  report_interval_ms: 0", "fleet.report_interval_ms"),
        ("fleet:\n  nmae: typo", "nmae"),
    ])
    func aBadValueNamesItsKey(_ yaml: String, _ key: String) {
        do {
            _ = try Self.config(yaml)
            Issue.record("accepted \(yaml)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
