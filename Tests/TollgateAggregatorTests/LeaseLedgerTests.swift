import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The aggregator's lease ledger as a value: when a budget becomes leased, what it grants,
/// and that its grants plus spend never pass the block line.
@Suite struct LeaseLedgerTests {
    let clock = ManualClock()
    var start: ServiceClock.Instant { clock.serviceClock.now }

    /// A budget blocking at 1,000 whose spend burns at 100/s: leased once less than
    /// 3 × 100 × 1 s remains.
    func burning(to spent: Int64, settings: LeaseLedger.Settings = .init()) -> LeaseLedger {
        var ledger = LeaseLedger(budgetID: "b", windowStart: 0, blockAt: 1_000, spent: 0, settings: settings)
        let now = start
        var total: Int64 = 0
        var second: Int64 = 0
        while total < spent {
            second += 1
            let added = min(100, spent - total)
            total += added
            ledger.committed(added: added, spent: total, agentID: nil, now: now.advanced(by: .seconds(second)))
        }
        return ledger
    }

    func ask(_ agent: String, leaseID: UInt64 = 0, need: Int64 = 10, want: Int64 = 80, unreflected: Int64 = 0) -> LeaseRequestMessage {
        LeaseRequestMessage(agentID: agent, budgetID: "b", windowStart: 0, leaseID: leaseID, need: need, want: want, unreflected: unreflected)
    }

    @Test func leasesOnceTheRemainderIsBelowWhatTheFleetSpendsInAHorizonWithMargin() {
        #expect(!burning(to: 600).leased)  // 400 left > 3 × 100
        let ledger = burning(to: 800)  // 200 left < 300
        #expect(ledger.leased)
        #expect(ledger.boundAtSwitch == 0)  // 200 left covers one horizon's 100
        var off = LeaseLedger.Settings()
        off.enabled = false
        let unleased = burning(to: 800, settings: off)
        #expect(!unleased.leased)
        // Without leases the bound is what the fleet spends in a horizon: 100 at 100/s.
        #expect(unleased.overshootBound(now: start.advanced(by: .seconds(8))) == 100)
        #expect(ledger.overshootBound(now: start.advanced(by: .seconds(8))) == 0)
    }

    @Test func aBudgetWhoseBurnDiesDownIsNoLongerLeased() {
        var ledger = burning(to: 800)
        #expect(ledger.leased)
        // Nothing committed for a minute: the rate over the last 10 s falls, and 200 left is far enough.
        ledger.observe(blockAt: 1_000, spent: 800, now: start.advanced(by: .seconds(12)))
        #expect(ledger.leased)  // 600 in the last 10 s: 200 left < 2 × 3 × 60
        ledger.observe(blockAt: 1_000, spent: 800, now: start.advanced(by: .seconds(60)))
        #expect(!ledger.leased)
    }

    /// Hosts refused for want of remainder spend nothing the rate can see: a budget at its
    /// end with every host waiting must stay leased, or they all admit at once against the
    /// pushed state and overshoot what little is left (seen in `BudgetEnforcementTests`).
    @Test func aBudgetStaysLeasedWhileHostsAreRefusedForWantOfRemainder() {
        var ledger = burning(to: 800)
        #expect(ledger.leased)
        let short = ledger.request(ask("a", need: 300), activeAgents: 3, now: start.advanced(by: .seconds(55)), ttlMilliseconds: 5000)
        #expect(short.refused == .noRemainder)
        // Without the refusal the burn has died down by now (`aBudgetWhoseBurnDiesDownIsNoLongerLeased`).
        ledger.observe(blockAt: 1_000, spent: 800, now: start.advanced(by: .seconds(60)))
        #expect(ledger.leased, "refused 5 s ago: the demand is still there")
        ledger.observe(blockAt: 1_000, spent: 800, now: start.advanced(by: .seconds(66)))
        #expect(!ledger.leased, "no refusal for longer than the rate window, and the burn died down")
    }

    @Test func neverGrantsMoreInTotalThanRemains() {
        var ledger = burning(to: 800)
        var granted: Int64 = 0
        for agent in 0..<40 {
            let grant = ledger.request(ask("a\(agent)", want: 100), activeAgents: 8, now: start, ttlMilliseconds: 5000)
            granted += grant.added
            #expect(ledger.spent + ledger.outstanding <= 1_000)
        }
        #expect(granted <= 200)
        #expect(granted >= 190)  // shares shrink but what fits the need is handed out
        let late = ledger.request(ask("late", need: 50), activeAgents: 8, now: start, ttlMilliseconds: 5000)
        #expect(late.refused == .noRemainder)
    }

    @Test func grantsAnEqualShareButAtLeastTheNeed() {
        var ledger = burning(to: 800)  // 200 available
        let first = ledger.request(ask("a", need: 10, want: 1_000), activeAgents: 8, now: start, ttlMilliseconds: 5000)
        #expect(first.added == 25)  // 200 / 8
        let big = ledger.request(ask("b", need: 60, want: 1_000), activeAgents: 8, now: start, ttlMilliseconds: 5000)
        #expect(big.added == 60)  // a share (21) would not fit its request
    }

    @Test func unreflectedSpendIsHeldBackUntilItsBatchesArrive() {
        var ledger = burning(to: 800)
        // Agent a may still bring 150 it spent before the lease: only 50 is left to grant.
        let grant = ledger.request(ask("a", need: 10, want: 1_000, unreflected: 150), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(grant.added == 50)
        #expect(ledger.available == 0)
        // Its batches arrive: spent rises and its slice's outstanding falls by as much.
        ledger.committed(added: 150, spent: 950, agentID: "a", now: start)
        #expect(ledger.outstanding == 50)
        #expect(ledger.available == 0)
        #expect(ledger.spent + ledger.outstanding == 1_000)
    }

    @Test func batchesTheAgentHadNotSeenCountedAreNotHeldTwice() {
        var ledger = burning(to: 800)
        ledger.committed(added: 30, spent: 830, agentID: "a", seq: 12, now: start)
        ledger.committed(added: 20, spent: 850, agentID: "a", seq: 13, now: start)
        // a had seen its batches counted through 12: batch 13's 20 is in spent and in its 70.
        let request = LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: 0, need: 10, want: 1_000, unreflected: 70, basisSeq: 12)
        let grant = ledger.request(request, activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(ledger.slices["a"]?.unreflected == 50)
        #expect(grant.added == 100)
        // What it admitted before this answer, reported with its next ask, is held too.
        let report = LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: 0, leaseID: grant.leaseID, unreflected: 5)
        _ = ledger.request(report, activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(ledger.slices["a"]?.unreflected == 55)
    }

    @Test func aSliceComesBackWhenReleasedNotWhenItLapses() {
        var ledger = burning(to: 800)
        let grant = ledger.request(ask("a", want: 100), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(grant.added == 100)
        // Long past its TTL, an agent we have not heard from still holds it.
        _ = ledger.request(ask("b", need: 150, want: 150), activeAgents: 1, now: start.advanced(by: .seconds(60)), ttlMilliseconds: 5000)
        #expect(ledger.available == 100)
        ledger.committed(added: 30, spent: 830, agentID: "a", now: start.advanced(by: .seconds(61)))
        let release = LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: 0, leaseID: grant.leaseID, release: true)
        #expect(ledger.request(release, activeAgents: 1, now: start.advanced(by: .seconds(62)), ttlMilliseconds: 5000).refused == nil)
        #expect(ledger.outstanding == 0)
        #expect(ledger.available == 170)
    }

    @Test func topUpsAddToTheSameSliceAndRenewalsGrantNothing() {
        var ledger = burning(to: 800)
        let first = ledger.request(ask("a", need: 10, want: 40), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        let more = ledger.request(ask("a", leaseID: first.leaseID, need: 10, want: 40), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(more.leaseID == first.leaseID)
        #expect(more.total == 80)
        let renewal = ledger.request(ask("a", leaseID: first.leaseID, need: 0, want: 0), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(renewal.refused == nil)
        #expect(renewal.added == 0)
        #expect(ledger.request(ask("a", leaseID: 999), activeAgents: 1, now: start, ttlMilliseconds: 5000).refused == .unknownLease)
    }

    @Test func anAgentThatForgotItsSliceKeepsItHeldInItsNewOne() {
        var ledger = burning(to: 800)
        let first = ledger.request(ask("a", want: 100), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(first.added == 100)
        let again = ledger.request(ask("a", want: 100), activeAgents: 1, now: start, ttlMilliseconds: 5000)
        #expect(again.leaseID != first.leaseID)
        #expect(again.added == 100)  // 200 − 100 still held from the first
        #expect(ledger.available == 0)
    }

    @Test func refusesWhatDoesNotApply() {
        var unleased = burning(to: 100)
        #expect(unleased.request(ask("a"), activeAgents: 1, now: start, ttlMilliseconds: 5000).refused == .notLeased)
        var ledger = burning(to: 800)
        let stale = LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: -60, need: 1, want: 1)
        #expect(ledger.request(stale, activeAgents: 1, now: start, ttlMilliseconds: 5000).refused == .staleWindow)
    }
}

/// The desk around the ledgers: who may ask, and the pause after a start.
@Suite struct LeaseDeskTests {
    let clock = ManualClock()

    func desk(known: Bool, metrics: AggregatorMetrics) -> LeaseDesk {
        LeaseDesk(settings: LeaseLedger.Settings(), clock: clock.serviceClock, metrics: metrics, logger: Logger(label: "test"),
                  isKnownAgent: { _, _ in known }, activeAgents: { 1 })
    }

    /// A budget blocking at 1,000 that burned 800 in 8 s: leased.
    func leasedStatus(_ desk: LeaseDesk) -> BudgetStatus {
        let budget = Budget(id: "b", selector: BudgetSelector(conditions: []), unit: .usd, limit: 1_000, period: .day)
        var status = BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 0, now: clock.serviceClock.unixSeconds)
        desk.annotate(&status)
        for second in 1...8 {
            clock.advance(by: .seconds(1))
            desk.committed([(budgetID: "b", windowStart: status.windowStart, added: 100, spent: Int64(second) * 100)], agentID: nil)
        }
        status.spent = 800
        desk.annotate(&status)
        return status
    }

    @Test func refusesAndCountsAnUnknownAgent() {
        let metrics = AggregatorMetrics()
        let desk = desk(known: false, metrics: metrics)
        let status = leasedStatus(desk)
        #expect(status.leased)
        let grant = desk.handle(LeaseRequestMessage(agentID: "stranger", budgetID: "b", windowStart: status.windowStart, need: 1, want: 10),
                                keyName: "stranger-key")
        #expect(grant.refused == .unknownAgent)
        #expect(grant.added == 0)
        #expect(MetricsText(metrics.exposition())["tollgate_lease_requests_total{outcome=\"unknown_agent\"}"] == 1)
        #expect(desk.ledger(budgetID: "b")?.slices.isEmpty == true)
    }

    @Test func grantsNothingForOneTTLAfterStartingThenGrants() {
        let metrics = AggregatorMetrics()
        var settings = LeaseLedger.Settings()
        settings.ttl = .seconds(30)
        let desk = LeaseDesk(settings: settings, clock: clock.serviceClock, metrics: metrics, logger: Logger(label: "test"),
                             isKnownAgent: { _, _ in true }, activeAgents: { 1 })
        let status = leasedStatus(desk)  // 8 s after the desk started
        #expect(status.leased)
        #expect(status.overshootBound == 0)
        let request = LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: status.windowStart, need: 10, want: 50)
        // Agents may hold slices a previous run granted: nothing is granted until they have lapsed.
        let early = desk.handle(request, keyName: nil)
        #expect(early.refused == .noRemainder)
        clock.advance(by: .seconds(30))
        let grant = desk.handle(LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: status.windowStart, leaseID: early.leaseID,
                                                    need: 10, want: 50), keyName: nil)
        #expect(grant.added == 50)
        #expect(MetricsText(metrics.exposition())["tollgate_lease_requests_total{outcome=\"granted\"}"] == 1)
    }
}
