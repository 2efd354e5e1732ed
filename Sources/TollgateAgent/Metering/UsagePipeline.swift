import Foundation
import Logging
import TollgateCore

/// Everything between a metered request and the aggregator: the lock-free ring, the
/// shipper thread, the spool and the ZeroMQ connection. The proxy only calls `record`.
public final class UsagePipeline: Sendable {
    private let recorder: UsageRecorder
    private let shipper: Shipper

    public convenience init(config: AgentConfig, metrics: AgentMetrics, logger: Logger, clock: ServiceClock = .system) throws {
        try self.init(config: config, metrics: metrics, logger: logger, clock: clock, quotaView: { .none })
    }

    /// `quotaView` tells the agent's reports how fresh its quota state is.
    init(config: AgentConfig, metrics: AgentMetrics, logger: Logger, clock: ServiceClock,
         quotaView: @escaping @Sendable () -> FleetReporter.QuotaView) throws {
        let identity = try AgentIdentity.loadOrCreate(in: config.stateDirectory)
        recorder = UsageRecorder(capacity: config.ringCapacity, log: EventLog(directory: Spool.directory(in: config.stateDirectory)))
        shipper = try Shipper(
            settings: Shipper.Settings(endpoint: config.aggregatorEndpoint, stateDirectory: config.stateDirectory,
                                       flushInterval: config.flushInterval,
                                       maxBatchCells: config.maxBatchCells, spoolMaxBytes: config.spoolMaxBytes,
                                       security: config.aggregatorSecurity,
                                       fleet: FleetReporter.Settings(agentID: identity.agentID, name: config.fleetName,
                                                                     interval: config.reportInterval, staleAfter: config.quota.staleAfter,
                                                                     enforcement: config.quota.enforcement == .observe ? .observe : .enforce),
                                       spoolMaxHeldBytes: config.spoolMaxHeldBytes, spoolSegmentBytes: config.spoolSegmentBytes),
            identity: identity, recorder: recorder, metrics: metrics, logger: logger, clock: clock, quotaView: quotaView)
    }

    public var agentID: String { shipper.agentID }

    public func start() {
        shipper.start()
    }

    /// Callable from any thread: appends the event to the spool's event log (one `write(2)`,
    /// no fsync, never a lock held across I/O) and hands it to the meter. When it returns, a
    /// process crash can no longer lose the event, so the proxy calls it before a response's
    /// last byte goes out. Never drops (see `UsageRecorder`).
    public func record(_ event: UsageEvent) {
        recorder.record(event)
    }

    /// `record`, for an event whose spend the quota book holds under `ticket`.
    func record(_ event: UsageEvent, ticket: LocalSpend.Ticket) {
        recorder.record(event, ticket: ticket)
    }

    /// Called on the shipper thread each time a batch is cut and durable, with the tickets
    /// of the events it holds (`QuotaBook.cut`); set before `start`.
    /// Lease requests and answers ride the shipper's usage socket (`LeaseExchange`).
    func carryLeases(_ exchange: LeaseExchange) {
        shipper.leaseExchange.withLockedValue { $0 = exchange }
    }

    func onBatchCut(_ handler: @escaping @Sendable (_ seq: UInt64, _ tickets: [LocalSpend.Ticket]) -> Void) {
        shipper.batchCut.withLockedValue { $0 = handler }
    }

    /// True while the spool refuses writes or holds usage only in memory (`/status`,
    /// `/healthz`, and `spool.on_full: deny`).
    var spoolDegraded: Bool { recorder.log.refusing || !shipper.status.withLockedValue { $0.spoolWritable } }

    /// Why the spool is degraded, for `/healthz`; nil when it is not.
    var spoolProblem: String? { shipper.status.withLockedValue { $0.spoolProblem } }

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
