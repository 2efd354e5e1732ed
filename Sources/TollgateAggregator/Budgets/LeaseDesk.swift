import Logging
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// Every budget's `LeaseLedger`, behind one lock: the budget board tells it of statuses and
/// committed spend (commit and API threads), ingest hands it agents' lease requests (socket
/// thread), and it marks each status it sees as leased or not, with its overshoot bound.
final class LeaseDesk: Sendable {
    private struct State {
        var ledgers: [String: LeaseLedger] = [:]
        var lastLeaseID: UInt64 = 0
        /// Per agent, the watermark last published to it on the quota channel.
        var published: [String: UInt64] = [:]
    }

    let settings: LeaseLedger.Settings
    private let state = NIOLockedValueBox(State())
    private let clock: ServiceClock
    private let metrics: AggregatorMetrics
    private let logger: Logger
    /// Whether a request's agent id is one we know, spoken for by this key (ZAP User-Id).
    private let isKnownAgent: @Sendable (_ agentID: String, _ keyName: String?) -> Bool
    /// How many agents may ask for a share: the fleet's online agents.
    private let activeAgents: @Sendable () -> Int
    /// Nothing is granted before this: agents may still hold slices a previous run of the
    /// aggregator granted, which this one does not know; by then every one of them has lapsed.
    private let grantsFrom: ServiceClock.Instant

    /// `pauseAfterStart`: agents may hold slices of a previous run (the aggregator knows agents
    /// from its store), so nothing is granted for one TTL.
    init(settings: LeaseLedger.Settings, clock: ServiceClock, metrics: AggregatorMetrics, logger: Logger,
         isKnownAgent: @escaping @Sendable (String, String?) -> Bool, activeAgents: @escaping @Sendable () -> Int,
         pauseAfterStart: Bool = true) {
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.isKnownAgent = isKnownAgent
        self.activeAgents = activeAgents
        grantsFrom = pauseAfterStart ? clock.now.advanced(by: settings.ttl) : clock.now
        // Lease ids grow across restarts too (an agent ignores answers for ids it gave back):
        // they start from the clock, in milliseconds, with room for a thousand a millisecond.
        state.withLockedValue { $0.lastLeaseID = UInt64(max(0, clock.unixMilliseconds)) * 1_000 }
    }

    var ttlMilliseconds: UInt32 { UInt32(clamping: settings.ttl.wholeMilliseconds) }

    /// Brings the budget's ledger up to `status` and marks the status: leased, and its bound.
    /// A budget in observe mode blocks nothing, so it has nothing to lease.
    func annotate(_ status: inout BudgetStatus) {
        guard status.mode != .observe else { return }
        let now = clock.now
        let (leased, bound, outstanding) = state.withLockedValue { state in
            startLedgerIfNeeded(for: status, in: &state)
            state.ledgers[status.budgetID]!.observe(blockAt: status.blockAt, spent: status.spent, now: now)
            let ledger = state.ledgers[status.budgetID]!
            return (ledger.leased, ledger.overshootBound(now: now), ledger.outstanding)
        }
        status.leased = leased
        status.overshootBound = bound
        metrics.leaseOutstanding(status.budgetID).set(to: Double(outstanding))
    }

    /// A committed batch of `agentID` added `spend` (its current-window entries draw the
    /// agent's slices down). Call before annotating the statuses it produced.
    func committed(_ spend: [(budgetID: String, windowStart: Int64, added: Int64, spent: Int64)], agentID: String?, seq: UInt64? = nil) {
        let now = clock.now
        state.withLockedValue { state in
            // Mutated in place: a ledger taken out and written back copies its per-agent
            // tables on every batch, which at 5,000 agents was most of the commit thread's time.
            for entry in spend where state.ledgers[entry.budgetID]?.windowStart == entry.windowStart {
                state.ledgers[entry.budgetID]!.committed(added: entry.added, spent: entry.spent, agentID: agentID, seq: seq, now: now)
            }
        }
    }

    /// Whether a spend-only change to the budget may wait `lag` longer to reach agents
    /// (`LeaseLedger.isFarFromLine`). A budget without a ledger (observe mode, not seen yet)
    /// is near: it goes out at the normal window, as before the rule.
    func isFarFromLine(budgetID: String, lag: Duration) -> Bool {
        let now = clock.now
        return state.withLockedValue { $0.ledgers[budgetID]?.isFarFromLine(now: now, lag: lag) ?? false }
    }

    /// The quota channel sent these watermarks (one agent each). Each agent's batches up to
    /// the watermark sent *before* this one are dropped from every ledger: by now the agent
    /// has had a publish interval to apply it, so its lease requests' basis is at least that.
    /// One that missed it (a version gap) reports a lower basis until its snapshot arrives,
    /// and then holds back more than it needs for that slice: under-admission, never over.
    func published(watermarks: [String: UInt64]) {
        // With leases off too: the ledgers record batches either way, so bound them either way.
        guard !watermarks.isEmpty else { return }
        state.withLockedValue { state in
            for (agentID, seq) in watermarks {
                guard let previous = state.published.updateValue(max(seq, state.published[agentID] ?? 0), forKey: agentID) else { continue }
                // By key, each ledger mutated in place: iterating the dictionary while
                // mutating it would copy every ledger's per-agent tables.
                for budgetID in Array(state.ledgers.keys) {
                    state.ledgers[budgetID]!.forget(agentID: agentID, through: previous)
                }
            }
        }
    }

    func removed(budgetID: String) {
        _ = state.withLockedValue { $0.ledgers.removeValue(forKey: budgetID) }
    }

    /// Answers an agent's lease request; `keyName` is the sender's ZAP User-Id (nil on a
    /// plaintext channel). Never throws: every refusal is an answer, and counted.
    func handle(_ request: LeaseRequestMessage, keyName: String?) -> LeaseGrantMessage {
        guard isKnownAgent(request.agentID, keyName) else {
            metrics.leaseRequests(LeaseGrantMessage.Refusal.unknownAgent.rawValue).increment()
            logger.warning("refused a lease request for budget \(request.budgetID) from agent \(request.agentID) (key \(keyName ?? "none")): not a known agent of that key")
            return LeaseGrantMessage(budgetID: request.budgetID, windowStart: request.windowStart, leaseID: request.leaseID,
                                     added: 0, total: 0, ttlMilliseconds: ttlMilliseconds, refused: .unknownAgent)
        }
        let now = clock.now
        let agents = activeAgents()
        let (grant, outstanding) = state.withLockedValue { state -> (LeaseGrantMessage, Int64) in
            guard settings.enabled, state.ledgers[request.budgetID] != nil else {
                return (LeaseGrantMessage(budgetID: request.budgetID, windowStart: request.windowStart, leaseID: request.leaseID,
                                          added: 0, total: 0, ttlMilliseconds: ttlMilliseconds, refused: .notLeased), 0)
            }
            let grant = state.ledgers[request.budgetID]!.request(request, activeAgents: agents, now: now, ttlMilliseconds: ttlMilliseconds,
                                                                 mayGrant: now >= grantsFrom)
            let ledger = state.ledgers[request.budgetID]!
            state.lastLeaseID = max(state.lastLeaseID, ledger.nextLeaseID - 1)
            return (grant, ledger.outstanding)
        }
        let outcome = grant.refused?.rawValue ?? (request.release ? "released" : "granted")
        metrics.leaseRequests(outcome).increment()
        metrics.leaseOutstanding(request.budgetID).set(to: Double(outstanding))
        return grant
    }

    /// The ledger for the status's window: a new window (or a budget seen for the first time)
    /// starts a fresh one; slices of an ended window have nothing left to bound.
    private func startLedgerIfNeeded(for status: BudgetStatus, in state: inout State) {
        guard state.ledgers[status.budgetID]?.windowStart != status.windowStart else { return }
        state.ledgers[status.budgetID] = LeaseLedger(budgetID: status.budgetID, windowStart: status.windowStart, blockAt: status.blockAt,
                                                     spent: status.spent, settings: settings, firstLeaseID: state.lastLeaseID)
    }

    /// A copy of one budget's ledger (tests and the API).
    func ledger(budgetID: String) -> LeaseLedger? {
        state.withLockedValue { $0.ledgers[budgetID] }
    }
}
