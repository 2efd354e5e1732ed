import Foundation
import Logging
import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

@Suite struct IngestServerTests {
    @Test func badFramesGetANackAndACountedReasonNeverACrash() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = AggregatorMetrics()
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext,
                                  store: try UsageStore(directory: directory), metrics: metrics, logger: Logger(label: "test"))

        var counters = UsageCounters()
        counters.requests = 1
        let cell = Cell(key: CellKey(minute: 1, dimensions: Dimensions()), counters: counters)
        let good = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a", seq: 1, floorSeq: 1, cells: [cell]))
        var corrupt = good
        corrupt[1][0] ^= 0xFF
        let cases: [([Data], String)] = [
            ([Data("x".utf8)], "frame_count"),
            ([Data([0xFF, 0xFF]), good[1]], "bad_header"),
            (corrupt, "checksum"),
        ]
        for (frames, reason) in cases {
            guard case .nack = server.handle(frames) else {
                Issue.record("\(reason) should be refused")
                continue
            }
            #expect(MetricsText(metrics.exposition())["tollgate_ingest_rejected_total{reason=\"\(reason)\"}"] == 1)
        }
        #expect(server.handle(good) == .ack(seq: 1))
        #expect(server.handle(good) == .ack(seq: 1))  // a resend is acknowledged, not applied
        #expect(MetricsText(metrics.exposition())["tollgate_ingest_batches_duplicate_total"] == 1)
        // Each of the two commits is timed; refused frames never reach a commit.
        #expect(MetricsText(metrics.exposition())["tollgate_ingest_commit_seconds_count"] == 2)
        let gap = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a", seq: 5, floorSeq: 2, cells: []))
        #expect(server.handle(gap) == .nack(seq: 5, expected: 2, reason: "out of order: expected batch 2"))
    }

    /// Through the real sockets and both ingest threads: 160 agents with full windows (more
    /// batches in flight than a ZeroMQ pipe holds by default) each get every ack, in order,
    /// and every batch is counted once.
    @Test func hundredsOfAgentsWithFullWindowsAllGetTheirAcksInOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = AggregatorMetrics()
        let store = try UsageStore(directory: directory)
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext,
                                  store: store, metrics: metrics, logger: Logger(label: "test"))
        let bound = try server.start()
        defer { server.stopAndWait() }

        let agents = 160
        let batchesPerAgent = 16
        var counters = UsageCounters()
        counters.requests = 1
        let cell = Cell(key: CellKey(minute: 7, dimensions: Dimensions()), counters: counters)
        let context = ZMQContext()
        let dealers = try (0..<agents).map { _ -> ZMQSocket in
            let socket = try ZMQSocket(context, .dealer)
            try socket.connect(bound.usage)
            return socket
        }
        for (index, dealer) in dealers.enumerated() {
            for seq in 1...batchesPerAgent {
                let message = UsageBatchMessage(agentID: "agent-\(index)", seq: UInt64(seq), floorSeq: 0, cells: [cell])
                try dealer.send(try UsageBatchCodec.encode(message), dontWait: false)
            }
        }
        var acks = [[UInt64]](repeating: [], count: agents)
        let deadline = Date().addingTimeInterval(60)
        while acks.contains(where: { $0.count < batchesPerAgent }), Date() < deadline {
            let ready = try ZMQSocket.waitForInput(on: dealers, milliseconds: 200)
            for index in dealers.indices where ready[index] {
                while let reply = try dealers[index].receive() {
                    guard case .ack(let seq) = try UsageReply(decoding: reply[0]) else {
                        Issue.record("agent \(index) got \(reply)")
                        continue
                    }
                    acks[index].append(seq)
                }
            }
        }
        for index in 0..<agents { #expect(acks[index] == (1...UInt64(batchesPerAgent)).map { $0 }, "agent \(index)") }
        let total = try store.query(fromMinute: 0, toMinute: 100, groupBy: []).reduce(Int64(0)) { $0 + $1.counters.requests }
        #expect(total == Int64(agents * batchesPerAgent))
    }
}
