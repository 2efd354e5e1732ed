import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// The agent's view of every budget: the last statuses the aggregator pushed, plus this
/// agent's own spend the aggregator has not counted yet (`LocalSpend`, settled exactly by
/// the watermarks in each update), plus what requests in flight have reserved. Every
/// request is decided from this alone, so a decision never waits on the network (DESIGN.md
/// decision 6).
///
/// Thread-safe: event loops decide and settle, the quota subscriber applies updates.
final class QuotaBook: Sendable {
    /// Where the quota channel stands, for staleness and gap detection.
    struct Freshness: Equatable {
        var version: UInt64 = 0
        /// When the last update arrived; nil before the first.
        var lastUpdate: ServiceClock.Instant?
    }

    /// One request's hold on the budgets it matched; settled when the response ends.
    struct Reservation: Sendable {
        fileprivate struct Hold {
            var budgetID: String
            var unit: BudgetUnit
            var amount: Int64
            /// The slice the amount is reserved in, for a leased budget.
            var leaseID: UInt64?
            /// Outside a slice: the reservation's number, and the opening of a first slice it
            /// was charged to when admitted before the aggregator's answer (`LeaseSlices.Opening`).
            var serial: UInt64 = 0
            var chargedTo: UInt64?
        }

        fileprivate var amounts: [Hold]
        static let none = Reservation(amounts: [])
    }

    enum ApplyOutcome: Equatable {
        case applied
        /// A delta skipped a version: the agent must ask for a snapshot.
        case gap(expected: UInt64, received: UInt64)
    }

    private struct State {
        var statuses: [String: BudgetStatus] = [:]
        var freshness = Freshness()
        var local = LocalSpend()
        var reserved: [String: Int64] = [:]
        var wouldBlock = WouldBlockCounts()
        var leases = LeaseSlices()
        /// Per budget, what reservations outside any slice hold, and how many there are: a
        /// first slice carries those in flight when it is asked for.
        var offSlice: [String: (amount: Int64, count: Int)] = [:]
        /// The last reservation's number.
        var serial: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    /// Whose watermark in a quota update says which of our batches the pushed spend includes.
    let agentID: String
    /// Freshness and (through the gate) budget windows are read from it.
    let clock: ServiceClock
    /// When this book was made (the agent's start): would-block counts begin there.
    let startedUnixMs: Int64
    /// Key → team/project from the aggregator's key labels, pushed with the budgets.
    let keyAttributions = KeyAttributions()
    /// Spend policies, pushed with the budgets; checked against `prices`, the agent's catalog.
    let policies: PolicyBook

    init(agentID: String, clock: ServiceClock = .system, prices: PriceCatalog = PriceCatalog(fallback: PriceCatalog.defaultFallback)) {
        self.agentID = agentID
        self.clock = clock
        startedUnixMs = clock.unixMilliseconds
        policies = PolicyBook(catalog: prices)
    }

    var freshness: Freshness { state.withLockedValue { $0.freshness } }
    var statuses: [BudgetStatus] { state.withLockedValue { Array($0.statuses.values) } }

    /// How long the channel has been silent; nil before the first update.
    var silence: Duration? { freshness.lastUpdate.map { $0.duration(to: clock.now) } }

    /// The quota state as reports and `/status` show it, read at one instant.
    func view(staleAfter: Duration) -> QuotaView {
        let now = clock.now
        let (freshness, wouldBlock) = state.withLockedValue { ($0.freshness, $0.wouldBlock) }
        var view = QuotaView(version: freshness.version, age: freshness.lastUpdate.map { $0.duration(to: now) }, staleAfter: staleAfter,
                             wouldBlock: wouldBlock.entries(), countingSinceUnixMs: startedUnixMs)
        view.policyHits = policies.hits
        view.rejectedPolicies = policies.rejections
        return view
    }

    /// One request `status`'s budget would have refused (observe mode), in the window that
    /// holds `nowUnix`: after the status's window ended, the next one, as `standings` counts.
    func countWouldBlock(_ status: BudgetStatus, nowUnix: Int64) {
        let windowStart = nowUnix >= status.windowEnd ? status.windowEnd : status.windowStart
        state.withLockedValue { $0.wouldBlock.count(budgetID: status.budgetID, windowStart: windowStart) }
    }

    /// Applies a pushed update unless it skipped a version (then nothing changes).
    func apply(_ update: QuotaUpdateMessage) -> ApplyOutcome {
        let now = clock.now
        return state.withLockedValue { state in
            if !update.isSnapshot {
                let expected = state.freshness.version + 1
                guard state.freshness.lastUpdate != nil, update.version == expected else {
                    return .gap(expected: expected, received: update.version)
                }
            }
            if update.isSnapshot { state.statuses = [:] }
            for status in update.budgets {
                state.statuses[status.budgetID] = status
                state.leases.statusArrived(budgetID: status.budgetID)
            }
            for id in update.removedBudgetIDs { state.statuses[id] = nil }
            state.wouldBlock.keep(only: Set(state.statuses.keys))
            state.freshness = Freshness(version: update.version, lastUpdate: now)
            // The statuses just applied include our batches up to the watermark: they stop
            // counting locally in the same instant, so nothing is counted twice or missed.
            // Not named: the aggregator has none of our batches (snapshot) or none new (delta).
            if let seq = update.watermarks[agentID] { state.local.counted(through: seq) }
            return .applied
        }
    }

    /// What the gate needs to judge one budget for one request.
    struct Standing {
        var status: BudgetStatus
        /// The window has ended since the status was computed: spend starts again from 0.
        var windowEnded: Bool
        /// Committed spend in the current window plus ours not yet reflected.
        var settled: Int64
        /// `settled` plus what requests in flight reserved.
        var projected: Int64
    }

    /// Every budget whose selector matches `dimensions`, with its projected spend.
    func standings(for dimensions: Dimensions, nowUnix: Int64) -> [Standing] {
        state.withLockedValue { state in
            state.statuses.values.compactMap { status in
                guard status.selector.matches(dimensions) else { return nil }
                let (ended, spent) = Self.windowSpend(status, local: state.local, nowUnix: nowUnix)
                return Standing(status: status, windowEnded: ended, settled: spent, projected: spent + state.reserved[status.budgetID, default: 0])
            }
        }
    }

    /// A budget's use as this agent sees it, for downgrade policies: the pushed spend of the
    /// current window plus this agent's own not yet counted (in-flight reservations are
    /// not spend), against its effective limit. Nil for a budget the agent does not hold.
    func budgetUse(of budgetID: String, nowUnix: Int64) -> PolicySet.BudgetUse? {
        state.withLockedValue { state in
            guard let status = state.statuses[budgetID] else { return nil }
            return PolicySet.BudgetUse(spent: Self.windowSpend(status, local: state.local, nowUnix: nowUnix).spent,
                                       limit: status.effectiveLimit)
        }
    }

    /// Whether `status`'s window has ended, and the spend in the window that holds `nowUnix`:
    /// committed (0 once the window ended: the next one starts at its end) plus local.
    private static func windowSpend(_ status: BudgetStatus, local: LocalSpend, nowUnix: Int64) -> (ended: Bool, spent: Int64) {
        let ended = nowUnix >= status.windowEnd
        // Local spend is tagged by minute: only the current window's counts. After the
        // window ended (no new status yet), the next one starts at its end.
        let own = local.amount(budgetID: status.budgetID, fromMinute: (ended ? status.windowEnd : status.windowStart) / 60,
                               toMinute: ended ? nil : status.windowEnd / 60)
        return (ended, (ended ? 0 : status.spent) + own)
    }

    /// Holds `amount(unit)` against each budget until `settle`.
    func reserve(_ budgets: [BudgetStatus], amount: (BudgetUnit) -> Int64) -> Reservation {
        switch reserve(budgets, amount: { status in amount(status.unit) }, leased: { _ in false }) {
        case .reserved(let reservation): reservation
        case .noRoom: .none
        }
    }

    enum LeasedReservation {
        case reserved(Reservation)
        /// This leased budget's slice (if any) has no room for the request's worst case.
        /// `awaiting`: an answer to an ask for more is expected soon, and this many answers
        /// about the budget have arrived so far (`leaseAnswers`).
        case noRoom(BudgetStatus, worst: Int64, holdsSlice: Bool, awaiting: UInt64?)
    }

    /// Holds `amount(status)` against each budget until `settle`; in one step, so two
    /// requests cannot both take the last of a slice. A budget for which `leased(status)`
    /// holds is reserved in this agent's slice of it, and nothing is held if one has no room.
    func reserve(_ budgets: [BudgetStatus], amount: (BudgetStatus) -> Int64, leased: (BudgetStatus) -> Bool) -> LeasedReservation {
        guard !budgets.isEmpty else { return .reserved(.none) }
        let now = clock.now
        let wanted = budgets.map { (status: $0, amount: amount($0), leased: leased($0)) }
        return state.withLockedValue { state in
            var amounts: [Reservation.Hold] = []
            state.leases.expire(now: now)
            state.serial += 1
            let serial = state.serial
            // Reserved in a copy: a later budget with no room undoes an earlier one's slice reservation.
            var leases = state.leases
            for hold in wanted {
                let budgetID = hold.status.budgetID
                var leaseID: UInt64?
                var chargedTo: UInt64?
                if hold.leased && !leases.isUnleased(budgetID: budgetID, windowStart: hold.status.windowStart) {
                    if let id = leases.reserve(budgetID: budgetID, windowStart: hold.status.windowStart, worst: hold.amount, now: now) {
                        leaseID = id
                    } else if leases.mayBridge(budgetID: budgetID, windowStart: hold.status.windowStart) {
                        // No answer yet since the switch: admitted as before it (the gate's
                        // own check passed), and charged to the first slice.
                        chargedTo = leases.bridge(budgetID: budgetID, windowStart: hold.status.windowStart, amount: hold.amount)
                    } else {
                        state.leases.noteNeed(budgetID: budgetID, worst: hold.amount)
                        let awaiting = state.leases.expectsAnswer(budgetID: budgetID, now: now) ? state.leases.answers[budgetID, default: 0] : nil
                        return .noRoom(hold.status, worst: hold.amount, holdsSlice: state.leases.holds(budgetID: budgetID), awaiting: awaiting)
                    }
                } else {
                    leases.noteNeed(budgetID: budgetID, worst: hold.amount)
                }
                amounts.append(Reservation.Hold(budgetID: budgetID, unit: hold.status.unit, amount: hold.amount, leaseID: leaseID,
                                                serial: serial, chargedTo: chargedTo))
            }
            state.leases = leases
            for hold in amounts {
                state.reserved[hold.budgetID, default: 0] += hold.amount
                if hold.leaseID == nil {
                    var held = state.offSlice[hold.budgetID] ?? (0, 0)
                    held.amount += hold.amount
                    held.count += 1
                    state.offSlice[hold.budgetID] = held
                }
            }
            return .reserved(Reservation(amounts: amounts))
        }
    }

    /// How many answers about `budgetID`'s lease have arrived: a request refused for want of
    /// room waits for this to move (`QuotaGate`).
    func leaseAnswers(budgetID: String) -> UInt64 {
        state.withLockedValue { $0.leases.answers[budgetID, default: 0] }
    }

    /// Releases a reservation, and holds what the request really spent (`event`; nil when
    /// nothing was, e.g. the request was never sent) against every budget whose selector
    /// matches the event's dimensions, as the aggregator will match its cell. Call it before
    /// the event is recorded, and give the event the returned ticket (0: nothing held).
    @discardableResult
    func settle(_ reservation: Reservation, spent event: UsageEvent?) -> LocalSpend.Ticket {
        let counters = event.map { UsageCounters($0) }
        return state.withLockedValue { state in
            for hold in reservation.amounts {
                state.reserved[hold.budgetID, default: 0] -= hold.amount
                if state.reserved[hold.budgetID] == 0 { state.reserved[hold.budgetID] = nil }
                var actual: Int64 = 0
                if let event, let counters, let status = state.statuses[hold.budgetID], status.selector.matches(event.dimensions) {
                    actual = status.unit.amount(of: counters)
                }
                if let leaseID = hold.leaseID {
                    state.leases.settle(budgetID: hold.budgetID, leaseID: leaseID, reserved: hold.amount, actual: actual)
                    continue
                }
                if var held = state.offSlice[hold.budgetID] {
                    held.amount -= hold.amount
                    held.count -= 1
                    state.offSlice[hold.budgetID] = held.count > 0 ? held : nil
                }
                if state.leases.isCharged(budgetID: hold.budgetID, serial: hold.serial, chargedTo: hold.chargedTo) {
                    state.leases.settleCharged(budgetID: hold.budgetID, reserved: hold.amount, actual: actual)
                }
            }
            guard let event, let counters else { return 0 }
            var amounts: LocalSpend.Amounts = [:]
            for status in state.statuses.values where status.selector.matches(event.dimensions) {
                amounts[LocalSpend.Slot(budgetID: status.budgetID, minute: event.minute)] = status.unit.amount(of: counters)
            }
            return state.local.settle(amounts)
        }
    }

    /// The shipper made the events holding `tickets` durable as batch `seq`.
    func cut(seq: UInt64, tickets: [LocalSpend.Ticket]) {
        state.withLockedValue { $0.local.cut(seq: seq, tickets: tickets) }
    }

    /// Lease requests to send now (the shipper asks every turn of its loop): new slices for
    /// leased budgets, top-ups of slices running low, renewals of slices in use, and
    /// slices given back.
    func leaseRequests() -> [LeaseRequestMessage] {
        let now = clock.now
        return state.withLockedValue { state in
            let local = state.local
            let offSlice = state.offSlice
            return state.leases.due(
                statuses: Array(state.statuses.values), agentID: agentID, now: now, ttl: state.leases.ttl,
                unreflected: { status in
                    local.amount(budgetID: status.budgetID, fromMinute: status.windowStart / 60, toMinute: status.windowEnd / 60)
                },
                inFlight: { offSlice[$0] ?? (0, 0) }, serial: state.serial,
                basisSeq: local.overlapBasis, lastTicket: local.newestTicket, holdsTicket: { local.holds(ticketsThrough: $0) })
        }
    }

    /// The aggregator's answer to a lease request.
    func received(_ grant: LeaseGrantMessage) {
        let now = clock.now
        let ttl = Duration.milliseconds(Int64(grant.ttlMilliseconds))
        state.withLockedValue { $0.leases.received(grant, ttl: ttl, now: now) }
    }

    /// A copy of this agent's slices (tests and `/status`).
    var leases: LeaseSlices { state.withLockedValue { $0.leases } }

    /// A copy of the local-spend ledger (tests and `/status`).
    var localSpend: LocalSpend { state.withLockedValue { $0.local } }
}
