import Foundation
import Logging
import TestSupport
import Testing
@testable import TollgateAgent
@testable import TollgateAggregator
import TollgateCore

/// An agent whose state directory is restored from a backup numbers its new usage with
/// seqs the aggregator has already applied. Before, those batches were acknowledged as
/// duplicates and the usage silently lost; now the aggregator refuses them (`state_behind`,
/// with its last seq) and the agent renumbers above that seq and resends, losing nothing
/// and counting nothing twice. A real agent pipeline (shipper, spool) against a real
/// ingest server and RocksDB, in one process.
@Suite struct RestoredBackupTests {
    static let logger = Logger(label: "restored-backup-test")
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("restored-backup-\(UUID())").path
    var stateDirectory: String { root + "/agent" }
    var backupDirectory: String { root + "/backup" }
    static let minute: Int64 = 1_767_225_600 / 60

    func event() -> UsageEvent {
        var dimensions = Dimensions()
        dimensions.keyID = "k"
        dimensions.model = "gpt-4o-mini"
        return UsageEvent(unixTime: 1_767_225_600, dimensions: dimensions, tokens: TokenUsage(input: 10, output: 2), cost: Nanodollars(30))
    }

    func pipeline(endpoint: String, metrics: AgentMetrics, flushInterval: Duration = .milliseconds(20),
                  clock: ServiceClock = .system) throws -> UsagePipeline {
        var config = AgentConfig()
        config.stateDirectory = stateDirectory
        config.aggregatorEndpoint = endpoint
        config.flushInterval = flushInterval
        return try UsagePipeline(config: config, metrics: metrics, logger: Self.logger, clock: clock)
    }

    func requests(_ store: UsageStore) throws -> Int64 {
        try store.query(fromMinute: Self.minute, toMinute: Self.minute + 1, groupBy: []).reduce(Int64(0)) { $0 + $1.counters.requests }
    }

    func eventually(_ condition: () throws -> Bool) async throws {
        for _ in 0..<1_000 where try !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// Records one event and waits until the aggregator has counted it.
    func recordAndWait(_ pipeline: UsagePipeline, store: UsageStore, total: Int64) async throws {
        pipeline.record(event())
        try await eventually { try requests(store) >= total }
        #expect(try requests(store) == total)
    }

    @Test func aRestoredAgentRenumbersAboveTheAggregatorsLastSeqAndLosesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try UsageStore(directory: root + "/aggregator")
        let aggregatorMetrics = AggregatorMetrics()
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext, store: store,
                                      metrics: aggregatorMetrics, logger: Self.logger)
        let endpoint = try server.start().usage
        defer {
            server.stopAndWait()
            store.close()
        }

        let first = try pipeline(endpoint: endpoint, metrics: AgentMetrics())
        let agentID = first.agentID
        first.start()
        try await recordAndWait(first, store: store, total: 1)
        await first.stop(drainTimeout: .seconds(5))
        try FileManager.default.copyItem(atPath: stateDirectory, toPath: backupDirectory)

        // The original goes on shipping after the backup.
        let original = try pipeline(endpoint: endpoint, metrics: AgentMetrics())
        original.start()
        try await recordAndWait(original, store: store, total: 2)
        try await recordAndWait(original, store: store, total: 3)
        await original.stop(drainTimeout: .seconds(5))
        let lastApplied = try store.lastSeq(agentID: agentID)

        // The host is restored from the backup: its state knows nothing of the last batches.
        try FileManager.default.removeItem(atPath: stateDirectory)
        try FileManager.default.copyItem(atPath: backupDirectory, toPath: stateDirectory)
        let metrics = AgentMetrics()
        let restored = try pipeline(endpoint: endpoint, metrics: metrics)
        #expect(restored.agentID == agentID)
        restored.start()
        try await recordAndWait(restored, store: store, total: 4)
        #expect(MetricsText(metrics.exposition())["tollgate_agent_state_renumbered_total"] == 1)
        #expect(MetricsText(metrics.exposition())["tollgate_agent_batches_refused_total{reason=\"state_behind\"}"] ?? 0 >= 1)
        #expect(MetricsText(aggregatorMetrics.exposition())["tollgate_ingest_rejected_total{reason=\"state_behind\"}"] ?? 0 >= 1)
        #expect(restored.shipperStatus.renumberedAboveSeq == lastApplied)
        #expect(restored.shipperStatus.refusal?.hasPrefix("state_behind") == true)

        // Its numbering now continues above the aggregator's: later usage applies, once.
        try await recordAndWait(restored, store: store, total: 5)
        await restored.stop(drainTimeout: .seconds(5))
        #expect(try store.lastSeq(agentID: agentID) > lastApplied)
        #expect(try requests(store) == 5)
    }

    /// Usage recorded after the renumbering but before the next cut is logged under the open
    /// epoch. It used to stay below the new numbering, so a crash then lost it: recovery took
    /// the records for cut. The state directory copied while the agent runs is what a
    /// process crash leaves (appends are in the page cache, nothing is held back).
    @Test func usageRecordedAfterTheRenumberingSurvivesACrashBeforeTheNextCut() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try UsageStore(directory: root + "/aggregator")
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext, store: store,
                                      metrics: AggregatorMetrics(), logger: Self.logger)
        let endpoint = try server.start().usage
        defer { store.close() }

        let first = try pipeline(endpoint: endpoint, metrics: AgentMetrics())
        first.start()
        try await recordAndWait(first, store: store, total: 1)
        await first.stop(drainTimeout: .seconds(5))
        try FileManager.default.copyItem(atPath: stateDirectory, toPath: backupDirectory)
        let original = try pipeline(endpoint: endpoint, metrics: AgentMetrics())
        original.start()
        try await recordAndWait(original, store: store, total: 2)
        try await recordAndWait(original, store: store, total: 3)
        await original.stop(drainTimeout: .seconds(5))
        try FileManager.default.removeItem(atPath: stateDirectory)
        try FileManager.default.copyItem(atPath: backupDirectory, toPath: stateDirectory)

        // Cuts go by a manual clock: one cut sends a batch the aggregator refuses, and after
        // the renumbering none comes until the "crash".
        let clock = ManualClock()
        let metrics = AgentMetrics()
        let restored = try pipeline(endpoint: endpoint, metrics: metrics, flushInterval: .seconds(60), clock: clock.serviceClock)
        restored.start()
        restored.record(event())
        try await eventually { MetricsText(metrics.exposition())["tollgate_agent_events_metered_total"] == 1 }
        clock.advance(by: .seconds(60))
        try await eventually { try requests(store) >= 4 }
        #expect(MetricsText(metrics.exposition())["tollgate_agent_state_renumbered_total"] == 1)
        #expect(try requests(store) == 4)

        restored.record(event())
        try await eventually { MetricsText(metrics.exposition())["tollgate_agent_events_metered_total"] == 2 }
        let crashImage = root + "/crash-image"
        try FileManager.default.copyItem(atPath: stateDirectory, toPath: crashImage)
        // The live agent never gets to ship the event: the aggregator goes first.
        server.stopAndWait()
        await restored.stop(drainTimeout: .zero)

        try FileManager.default.removeItem(atPath: stateDirectory)
        try FileManager.default.copyItem(atPath: crashImage, toPath: stateDirectory)
        let again = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext, store: store,
                                     metrics: AggregatorMetrics(), logger: Self.logger)
        let restarted = try pipeline(endpoint: try again.start().usage, metrics: AgentMetrics())
        defer { again.stopAndWait() }
        restarted.start()
        try await eventually { try requests(store) >= 5 }
        await restarted.stop(drainTimeout: .seconds(5))
        #expect(try requests(store) == 5, "the event recorded after the renumbering was lost in the crash")
    }
}
