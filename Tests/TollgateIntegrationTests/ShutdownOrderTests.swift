import Foundation
import FoundationNetworking
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing
import TollgateAgent
import TollgateAggregator
import TollgateCore
import TollgateMockProvider

/// The agent's graceful shutdown, in process, as `tollgate-agent run` does it on SIGTERM:
/// the listener closes first, the request in flight completes, the wait for it ends when
/// it does (not at `drain_timeout_ms`), and its usage reaches the aggregator before the
/// agent's service returns, though the flush interval is far longer than the test.
@Suite struct ShutdownOrderTests {
    static let logger = Logger(label: "shutdown-order-test")

    @Test func shutdownStopsAcceptingDrainsThenFlushes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-shutdown-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("shutdown-order-test-org-secret-0123456789".utf8).write(to: directory.appendingPathComponent("org-secret"))

        let mock = MockProviderServer()
        let mockPort = try mock.start()
        defer { mock.stop() }
        let aggregator = try Aggregator(config: .ephemeralLoopback(dataDirectory: directory.appendingPathComponent("aggregator").path), logger: Self.logger)
        let bound = try aggregator.start()
        defer { aggregator.stop() }

        let proxyPort = try freePort()
        let agent = try Agent(config: AgentConfig(yaml: """
            listen: 127.0.0.1:\(proxyPort)
            admin_listen: 127.0.0.1:\(try freePort())
            drain_timeout_ms: 30000
            state_dir: \(directory.path)/agent-state
            org_secret_file: \(directory.path)/org-secret
            upstreams:
              openai: http://127.0.0.1:\(mockPort)
            aggregator:
              endpoint: \(bound.usage)
              insecure_plaintext: true
            quota:
              endpoint: \(bound.quota)
            meter:
              flush_interval_ms: 60000
            """), logger: Self.logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [agent], logger: Self.logger))
        let running = Task { try await group.run() }
        for _ in 0..<200 where !RawHTTP.accepts(port: proxyPort) { try await Task.sleep(for: .milliseconds(10)) }

        // A stream of about 30 events 200 ms apart; its head has arrived before shutdown starts.
        let body = #"{"model":"gpt-4o-mini","stream":true,"max_tokens":30,"messages":[{"role":"user","content":"drain"}]}"#
        let request = "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test-shutdown-0000000000\r\n"
            + "X-Mock-Chunk-Delay-Ms: 200\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let (connection, head) = try RawHTTP.begin(port: proxyPort, request: request, firstBytes: 12)
        #expect(head.hasPrefix("HTTP/1.1 200"))
        // Read on a thread of its own: the reads block for seconds.
        let stream = NIOLockedValueBox<(text: String, endedAt: ContinuousClock.Instant)?>(nil)
        let reader = WorkerThread(name: "shutdown-test-reader") {
            let text = (try? RawHTTP.finish(connection)) ?? ""
            stream.withLockedValue { $0 = (text, ContinuousClock.now) }
        }
        await group.triggerGracefulShutdown()

        // 1. The listener closes while the stream is still being served.
        for _ in 0..<1_000 where RawHTTP.accepts(port: proxyPort) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!RawHTTP.accepts(port: proxyPort), "new connections are refused once shutdown starts")
        #expect(stream.withLockedValue { $0 } == nil, "the listener closed before the stream ended")

        // 2. The request in flight completes.
        await reader.finished()
        let (text, endedAt) = try #require(stream.withLockedValue { $0 })
        #expect(text.contains("data: [DONE]"), "the stream must complete despite the shutdown: \(text.suffix(200))")

        // 3. The drain ends with it, far from drain_timeout_ms, and the usage is shipped
        //    before the service returns (the flush interval alone would take a minute).
        try await running.value
        #expect(endedAt.duration(to: ContinuousClock.now) < .seconds(10), "the drain waited for a timeout instead of the request's end")
        var usageRequest = URLRequest(url: URL(string: "http://\(bound.api)/v1/usage?by=model")!)
        let token = try String(contentsOfFile: directory.appendingPathComponent("aggregator/api-read-token").path, encoding: .utf8)
        usageRequest.setValue("Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))", forHTTPHeaderField: "Authorization")
        let (usage, _) = try await URLSession.shared.data(for: usageRequest)
        let rows = try JSONSerialization.jsonObject(with: usage) as? [[String: Any]] ?? []
        #expect(rows.first?["requests"] as? Int == 1, "usage was flushed before the agent stopped: \(String(decoding: usage, as: UTF8.self))")
    }
}
