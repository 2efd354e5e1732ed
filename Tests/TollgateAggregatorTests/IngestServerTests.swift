import Foundation
import Logging
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

@Suite struct IngestServerTests {
    @Test func badFramesGetANackAndACountedReasonNeverACrash() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = MetricsRegistry()
        let server = IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext,
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
            #expect(metrics.value("tollgate_ingest_rejected_total{reason=\"\(reason)\"}") == 1)
        }
        #expect(server.handle(good) == .ack(seq: 1))
        #expect(server.handle(good) == .ack(seq: 1))  // a resend is acknowledged, not applied
        #expect(metrics.value("tollgate_ingest_batches_duplicate_total") == 1)
        let gap = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a", seq: 5, floorSeq: 2, cells: []))
        #expect(server.handle(gap) == .nack(seq: 5, expected: 2, reason: "out of order: expected batch 2"))
    }
}
