import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// The agent's view of every budget: the last statuses the aggregator pushed, plus this
/// agent's own spend the aggregator has not reflected yet, plus what requests in flight
/// have reserved. Every request is decided from this alone, so a decision never waits on
/// the network (DESIGN.md decision 6).
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
        fileprivate var amounts: [(budgetID: String, unit: BudgetUnit, amount: Int64)]
        static let none = Reservation(amounts: [])
    }

    enum ApplyOutcome: Equatable {
        case applied
        /// A delta skipped a version: the agent must ask for a snapshot.
        case gap(expected: UInt64, received: UInt64)
    }

    /// Spend this agent recorded that the pushed `spent` may not include yet.
    private struct LocalSpend {
        var recordedAt: ServiceClock.Instant
        var amount: Int64
    }

    private struct State {
        var statuses: [String: BudgetStatus] = [:]
        var freshness = Freshness()
        var local: [String: [LocalSpend]] = [:]
        var reserved: [String: Int64] = [:]
    }

    private let state = NIOLockedValueBox(State())
    /// How long after recording the aggregator surely has our spend: a flush interval to
    /// ship it plus a margin for the commit and the push. Until then it is counted here too
    /// (briefly counting it twice errs on the side of blocking).
    let reflectionDelay: Duration
    /// Freshness, reflection and (through the gate) budget windows are read from it.
    let clock: ServiceClock

    init(reflectionDelay: Duration, clock: ServiceClock = .system) {
        self.reflectionDelay = reflectionDelay
        self.clock = clock
    }

    var freshness: Freshness { state.withLockedValue { $0.freshness } }
    var statuses: [BudgetStatus] { state.withLockedValue { Array($0.statuses.values) } }

    /// How long the channel has been silent; nil before the first update.
    var silence: Duration? { freshness.lastUpdate.map { $0.duration(to: clock.now) } }

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
            for status in update.budgets { state.statuses[status.budgetID] = status }
            for id in update.removedBudgetIDs { state.statuses[id] = nil }
            state.freshness = Freshness(version: update.version, lastUpdate: now)
            // Spend recorded long enough ago is in the statuses just received.
            let reflectedBefore = now.advanced(by: .zero - reflectionDelay)
            let touched = update.isSnapshot ? Set(state.local.keys) : Set(update.budgets.map(\.budgetID))
            for id in touched {
                state.local[id]?.removeAll { $0.recordedAt <= reflectedBefore }
                if state.local[id]?.isEmpty == true { state.local[id] = nil }
            }
            return .applied
        }
    }

    /// What the gate needs to judge one budget for one request.
    struct Standing {
        var status: BudgetStatus
        /// The window has ended since the status was computed: spend starts again from 0.
        var windowEnded: Bool
        /// Committed spend in the current window plus ours not yet reflected, plus reservations.
        var projected: Int64
    }

    /// Every budget whose selector matches `dimensions`, with its projected spend.
    func standings(for dimensions: Dimensions, nowUnix: Int64) -> [Standing] {
        state.withLockedValue { state in
            state.statuses.values.compactMap { status in
                guard status.selector.matches(dimensions) else { return nil }
                let ended = nowUnix >= status.windowEnd
                let local = state.local[status.budgetID]?.reduce(0) { $0 + $1.amount } ?? 0
                let committed = ended ? 0 : status.spent
                return Standing(status: status, windowEnded: ended, projected: committed + local + state.reserved[status.budgetID, default: 0])
            }
        }
    }

    /// Holds `amount(unit)` against each budget until `settle`.
    func reserve(_ budgets: [BudgetStatus], amount: (BudgetUnit) -> Int64) -> Reservation {
        guard !budgets.isEmpty else { return .none }
        let amounts = budgets.map { (budgetID: $0.budgetID, unit: $0.unit, amount: amount($0.unit)) }
        state.withLockedValue { state in
            for hold in amounts { state.reserved[hold.budgetID, default: 0] += hold.amount }
        }
        return Reservation(amounts: amounts)
    }

    /// Releases a reservation and counts what the request really spent (nil: nothing, e.g.
    /// the request was never sent) until the aggregator reflects it.
    func settle(_ reservation: Reservation, spent counters: UsageCounters?) {
        guard !reservation.amounts.isEmpty else { return }
        let now = clock.now
        state.withLockedValue { state in
            for hold in reservation.amounts {
                state.reserved[hold.budgetID, default: 0] -= hold.amount
                if state.reserved[hold.budgetID] == 0 { state.reserved[hold.budgetID] = nil }
                if let counters {
                    let amount = hold.unit.amount(of: counters)
                    if amount > 0 { state.local[hold.budgetID, default: []].append(LocalSpend(recordedAt: now, amount: amount)) }
                }
            }
        }
    }
}
