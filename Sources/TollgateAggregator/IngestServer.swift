import Foundation
import Logging
import Synchronization
import TollgateCore
import TollgateWire

/// Receives usage batches on a ZeroMQ ROUTER socket, commits them through the store and
/// answers each with an ack or a nack.
///
/// One thread owns the socket and is the only writer to the store, which is what makes
/// the store's read-modify-write of counters safe without locks.
final class IngestServer: Sendable {
    private let endpoint: String
    private let security: AggregatorConfig.UsageSecurity
    private let store: UsageStore
    private let budgets: BudgetBoard?
    private let metrics: MetricsRegistry
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let bound = DispatchSemaphore(value: 0)
    private let boundResult = Mutex<Result<String, Error>?>(nil)

    /// How often the authorized-keys directory is re-read.
    static let allowlistReloadSeconds: TimeInterval = 5

    init(endpoint: String, security: AggregatorConfig.UsageSecurity, store: UsageStore, budgets: BudgetBoard? = nil,
         metrics: MetricsRegistry, logger: Logger) {
        self.endpoint = endpoint
        self.security = security
        self.store = store
        self.budgets = budgets
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the ingest thread; returns the endpoint actually bound, or the bind error.
    func start() throws -> String {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "tollgate-ingest"
        thread.start()
        bound.wait()
        return try boundResult.withLock { $0! }.get()
    }

    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        finished.wait()
    }

    private func run() {
        let context = ZMQContext()
        let socket: ZMQSocket
        var authenticator: ZAPAuthenticator?
        do {
            socket = try ZMQSocket(context, .router)
            // A frame larger than any honest batch is refused inside libzmq, before we
            // allocate for it.
            try socket.set(.maxMessageBytes(Int64(UsageBatchCodec.maxUncompressedBytes)))
            authenticator = try secure(socket, context: context)
            try socket.bind(endpoint)
            boundResult.withLock { $0 = .success(socket.lastEndpoint) }
            bound.signal()
        } catch {
            boundResult.withLock { $0 = .failure(error) }
            bound.signal()
            return
        }
        defer { authenticator?.stop() }
        var nextReload = Date().addingTimeInterval(Self.allowlistReloadSeconds)
        while !stopRequested.load(ordering: .relaxed) {
            do {
                if try socket.waitForInput(milliseconds: 100) {
                    while let (frames, userID) = try socket.receiveWithMetadata() {
                        guard frames.count >= 2 else { continue }
                        if authenticator != nil && userID == nil {
                            metrics.increment("tollgate_ingest_rejected_total{reason=\"unauthenticated\"}")
                            continue
                        }
                        let reply = handle(Array(frames.dropFirst()))
                        try socket.send([frames[0], try reply.encoded()])
                    }
                }
            } catch {
                metrics.increment("tollgate_ingest_socket_errors_total")
                logger.error("usage socket error: \(error)")
            }
            if let authenticator, Date() >= nextReload {
                reloadAllowlist(authenticator)
                nextReload = Date().addingTimeInterval(Self.allowlistReloadSeconds)
            }
        }
    }

    /// Makes the socket a CurveZMQ server that admits only allowlisted agents. The ZAP
    /// handler must be running before the socket binds: libzmq consults it only for
    /// sockets set up after it exists.
    private func secure(_ socket: ZMQSocket, context: ZMQContext) throws -> ZAPAuthenticator? {
        guard case .curve(let keyPair, let directory) = security else {
            logger.warning("usage channel is plaintext (insecure_plaintext: true): anyone who reaches \(endpoint) can ship usage")
            return nil
        }
        let metrics = metrics
        let logger = logger
        let authenticator = ZAPAuthenticator(context: context, allowlist: try AuthorizedAgents.load(directory: directory)) { reason in
            metrics.increment("tollgate_ingest_auth_rejected_total")
            logger.warning("refused an agent on the usage channel: \(reason)")
        }
        try authenticator.start()
        try socket.set(.curveServer(secretKey: keyPair.secretKey))
        // With an enforced domain libzmq refuses clients whenever no ZAP handler answers,
        // instead of admitting them unauthenticated.
        try socket.set(.zapDomain("tollgate"))
        try socket.set(.zapEnforceDomain(true))
        return authenticator
    }

    private func reloadAllowlist(_ authenticator: ZAPAuthenticator) {
        guard case .curve(_, let directory) = security else { return }
        do {
            authenticator.updateAllowlist(try AuthorizedAgents.load(directory: directory))
        } catch {
            metrics.increment("tollgate_ingest_allowlist_errors_total")
            logger.error("kept the previous agent allowlist: \(error)")
        }
    }

    /// Decodes, deduplicates and commits one batch; never throws, every failure is a reply.
    func handle(_ frames: [Data]) -> UsageReply {
        let message: UsageBatchMessage
        do {
            message = try UsageBatchCodec.decode(frames)
        } catch let error as WireError {
            metrics.increment("tollgate_ingest_rejected_total{reason=\"\(error.reason)\"}")
            logger.warning("rejected a usage batch: \(error)")
            let seq = (try? UsageBatchCodec.decodeHeader(frames))?.seq ?? 0
            return .nack(seq: seq, expected: nil, reason: error.description)
        } catch {
            metrics.increment("tollgate_ingest_rejected_total{reason=\"unknown\"}")
            return .nack(seq: 0, expected: nil, reason: "\(error)")
        }
        do {
            var spend: [BudgetSpend] = []
            switch try store.apply(message, budgetSpend: &spend) {
            case .applied:
                metrics.increment("tollgate_ingest_batches_applied_total")
                metrics.increment("tollgate_ingest_cells_applied_total", by: Int64(message.cells.count))
                // After the commit, before the ack: statuses, alerts and observers see only durable spend.
                budgets?.didCommit(spend)
                return .ack(seq: message.seq)
            case .duplicate(let lastSeq):
                metrics.increment("tollgate_ingest_batches_duplicate_total")
                return .ack(seq: max(lastSeq, message.seq))
            case .gap(let expected):
                metrics.increment("tollgate_ingest_batches_gap_total")
                return .nack(seq: message.seq, expected: expected, reason: "out of order: expected batch \(expected)")
            }
        } catch {
            metrics.increment("tollgate_ingest_store_errors_total")
            logger.error("could not commit batch \(message.seq) from agent \(message.agentID): \(error)")
            return .nack(seq: message.seq, expected: nil, reason: "aggregator could not commit the batch; it will be resent")
        }
    }
}
