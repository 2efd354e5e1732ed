import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAgent

/// The shipper's timing goes by the clock it is given: a batch is cut when the flush
/// interval has passed on that clock, and a stop waits for acks until the drain timeout
/// has passed on it. The aggregator here never answers (nothing listens at its endpoint).
@Suite struct ShipperClockTests {
    static let logger = Logger(label: "shipper-clock-test")

    func pipeline(clock: ManualClock, metrics: AgentMetrics) throws -> UsagePipeline {
        var config = AgentConfig()
        config.stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-shipper-\(UUID().uuidString.prefix(8))").path
        config.aggregatorEndpoint = "tcp://127.0.0.1:9"  // discard: nothing answers
        config.flushInterval = .seconds(60)
        return try UsagePipeline(config: config, metrics: metrics, logger: Self.logger, clock: clock.serviceClock)
    }

    func event() -> UsageEvent {
        var dimensions = Dimensions()
        dimensions.keyID = "k"
        dimensions.model = "gpt-4o-mini"
        return UsageEvent(unixTime: 1_767_225_600, dimensions: dimensions, tokens: TokenUsage(input: 10, output: 2), cost: Nanodollars(30))
    }

    /// Real time, for the shipper thread to act on what the test did.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func aBatchIsCutWhenTheFlushIntervalPassesOnTheClock() async throws {
        let clock = ManualClock()
        let metrics = AgentMetrics()
        let pipeline = try pipeline(clock: clock, metrics: metrics)
        pipeline.start()
        pipeline.record(event())
        try await eventually { metrics.value("tollgate_agent_events_metered_total") == 1 }
        #expect(metrics.value("tollgate_agent_events_metered_total") == 1)

        try await Task.sleep(for: .milliseconds(100))
        #expect(metrics.value("tollgate_agent_batches_cut_total") == 0, "no time has passed on the shipper's clock")
        clock.advance(by: .seconds(59))
        try await Task.sleep(for: .milliseconds(100))
        #expect(metrics.value("tollgate_agent_batches_cut_total") == 0)
        clock.advance(by: .seconds(1))
        try await eventually { metrics.value("tollgate_agent_batches_cut_total") == 1 }
        #expect(metrics.value("tollgate_agent_batches_cut_total") == 1)
        await pipeline.stop(drainTimeout: .zero)
    }

    @Test func aStopWaitsForAcksUntilTheDrainTimeoutPassesOnTheClock() async throws {
        let clock = ManualClock()
        let metrics = AgentMetrics()
        let pipeline = try pipeline(clock: clock, metrics: metrics)
        pipeline.start()
        pipeline.record(event())
        let stopped = Task {
            await pipeline.stop(drainTimeout: .seconds(5))
            return clock.now
        }
        // The stop cuts what was recorded at once, then waits for an ack that never comes.
        try await eventually { metrics.value("tollgate_agent_batches_cut_total") == 1 }
        #expect(metrics.value("tollgate_agent_batches_cut_total") == 1)
        try await Task.sleep(for: .milliseconds(100))
        clock.advance(by: .seconds(5))
        let stoppedAt = await stopped.value
        #expect(stoppedAt.offset == .seconds(5), "the stop ended only once its deadline passed on the clock")
    }
}

private extension AgentMetrics {
    /// A series' value as the agent's `/metrics` page shows it (0 if absent).
    func value(_ series: String) -> Int64 { Int64(MetricsText(exposition())[series] ?? 0) }
}
