import Foundation
import Logging
import TollgateCore

/// Everything between a metered request and the aggregator: the lock-free ring, the
/// shipper thread, the spool and the ZeroMQ connection. The proxy only calls `record`.
public final class UsagePipeline: Sendable {
    private let recorder: UsageRecorder
    private let shipper: Shipper

    public init(config: AgentConfig, metrics: AgentMetrics, logger: Logger, clock: ServiceClock = .system) throws {
        let identity = try AgentIdentity.loadOrCreate(in: config.stateDirectory)
        recorder = UsageRecorder(capacity: config.ringCapacity)
        shipper = try Shipper(
            settings: Shipper.Settings(endpoint: config.aggregatorEndpoint, stateDirectory: config.stateDirectory,
                                       flushInterval: config.flushInterval,
                                       maxBatchCells: config.maxBatchCells, spoolMaxBytes: config.spoolMaxBytes,
                                       security: config.aggregatorSecurity),
            identity: identity, recorder: recorder, metrics: metrics, logger: logger, clock: clock)
    }

    public var agentID: String { shipper.agentID }

    public func start() {
        shipper.start()
    }

    /// Lock-free; callable from any thread. Never drops (see `UsageRecorder`).
    public func record(_ event: UsageEvent) {
        recorder.record(event)
    }

    /// `record`, for an event whose spend the quota book holds under `ticket`.
    func record(_ event: UsageEvent, ticket: LocalSpend.Ticket) {
        recorder.record(event, ticket: ticket)
    }

    /// Called on the shipper thread each time a batch is cut and durable, with the tickets
    /// of the events it holds (`QuotaBook.cut`); set before `start`.
    func onBatchCut(_ handler: @escaping @Sendable (_ seq: UInt64, _ tickets: [LocalSpend.Ticket]) -> Void) {
        shipper.batchCut.withLockedValue { $0 = handler }
    }

    /// Cuts what is recorded and waits up to `drainTimeout` for acknowledgements; the rest
    /// stays spooled for the next start.
    public func stop(drainTimeout: Duration = .seconds(5)) async {
        await shipper.stop(drainTimeout: drainTimeout)
    }

    /// `stop` for a caller that is not async (a benchmark's `defer`): blocks until done.
    public func stopAndWait(drainTimeout: Duration = .seconds(5)) {
        shipper.stopAndWait(drainTimeout: drainTimeout)
    }

    /// The `/status` document.
    var shipperStatus: ShipperStatus { shipper.status.withLockedValue { $0 } }
}
