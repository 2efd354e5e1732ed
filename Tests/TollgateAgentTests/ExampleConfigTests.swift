import Foundation
@testable import TollgateAgent
import Testing
import TollgateWire

/// The shipped example config must stay loadable: it is what operators copy.
@Suite struct ExampleConfigTests {
    @Test func theAgentExampleLoadsOnceItsFilesExist() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var text = try String(contentsOf: root.appendingPathComponent("agent/tollgate-agent.example.yaml"), encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("example-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0123456789abcdef0123456789abcdef".write(toFile: directory + "/org-secret", atomically: true, encoding: .utf8)
        try CurveKeyPair.generate().write(secretKeyTo: directory + "/aggregator.key", publicKeyTo: directory + "/aggregator.pub")
        text = text.replacingOccurrences(of: "/etc/tollgate/", with: directory + "/")
            .replacingOccurrences(of: "/var/lib/tollgate-agent", with: directory + "/state")

        let config = try AgentConfig(yaml: text)
        #expect(config.listen.port == 8787 && config.listen.host == "127.0.0.1")
        #expect(config.flushInterval == .milliseconds(250))
        #expect(config.reportInterval == .seconds(5))
        #expect(config.bodyIdleTimeout == .seconds(10) && config.requestTimeout == .seconds(60))
        #expect(config.maxConnections == 1_024 && config.maxBufferedBytes == AgentConfig().maxBufferedBytes)
        guard case .curve(_, let secretKeyFile) = config.aggregatorSecurity else {
            Issue.record("the example must use CurveZMQ")
            return
        }
        #expect(secretKeyFile == directory + "/state/agent.key")
    }
}
