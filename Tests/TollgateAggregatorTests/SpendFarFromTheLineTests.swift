import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The quota channel's slow cadence for spend far from a budget's line, and the lease
/// ledger's memory of recent batches bounded by the watermarks published: plain values,
/// a manual clock (docs/ARCHITECTURE.md, "Spend far from the line").
@Suite struct SpendFarFromTheLineTests {
    let clock = ManualClock()
    var start: ServiceClock.Instant { clock.serviceClock.now }

    /// A budget blocking at `blockAt` whose spend burns at 100/s up to `spent`.
    func burning(to spent: Int64, blockAt: Int64? = 10_000) -> (ledger: LeaseLedger, now: ServiceClock.Instant) {
        var ledger = LeaseLedger(budgetID: "b", windowStart: 0, blockAt: blockAt, spent: 0, settings: .init())
        var total: Int64 = 0
        var now = start
        while total < spent {
            now = now.advanced(by: .seconds(1))
            let added = min(100, spent - total)
            total += added
            ledger.committed(added: added, spent: total, agentID: nil, now: now)
        }
        return (ledger, now)
    }

    /// Far means the remainder covers 3 × burn × (horizon 1 s + lag): at 100/s and a 2 s
    /// lag, 900. The lease line (3 × burn × horizon, 300) is always inside the near zone.
    @Test func farOnlyWhileTheRemainderCoversTheLagAtTheSafetyMargin() {
        let lag = Duration.seconds(2)
        let early = burning(to: 9_000)  // 1,000 left
        #expect(!early.ledger.leased)
        #expect(early.ledger.isFarFromLine(now: early.now, lag: lag))
        let closer = burning(to: 9_200)  // 800 left: near, not leased yet
        #expect(!closer.ledger.leased)
        #expect(!closer.ledger.isFarFromLine(now: closer.now, lag: lag))
        #expect(closer.ledger.isFarFromLine(now: closer.now, lag: .zero), "without a lag, far is the lease line itself")
        let leased = burning(to: 9_800)  // 200 left
        #expect(leased.ledger.leased)
        #expect(!leased.ledger.isFarFromLine(now: leased.now, lag: .zero))
        let spentOut = burning(to: 10_000)
        #expect(!spentOut.ledger.isFarFromLine(now: spentOut.now, lag: lag))
        // A budget that never blocks: agents decide nothing by its spend.
        let alertOnly = burning(to: 5_000, blockAt: nil)
        #expect(alertOnly.ledger.isFarFromLine(now: alertOnly.now, lag: lag))
    }

    @Test func spendOfFarBudgetsWaitsTheFarWindowAndANearOneBringsItBack() {
        let service = clock.serviceClock
        let window = Duration.milliseconds(20), far = Duration.seconds(2)
        var queue = QuotaDeltaQueue()
        let held = ["b": QuotaDeltaQueueTests.status("b", spent: 1), "c": QuotaDeltaQueueTests.status("c", spent: 1)]
        let first = service.now
        let urgent = queue.add(QuotaDeltaQueueTests.usage([QuotaDeltaQueueTests.status("b", spent: 2)], ["a1": 5], generation: 1), at: first,
                               held: { held[$0] }, isNear: { _ in false })
        #expect(!urgent)
        #expect(!queue.hasNear)
        #expect(queue.deadline(window: window, farWindow: far) == first.advanced(by: far))
        clock.advance(by: .milliseconds(30))
        #expect(!queue.isDue(at: service.now, window: window, farWindow: far))
        // Zero far window: the rule is off, the window applies.
        #expect(queue.isDue(at: service.now, window: window, farWindow: .zero))
        // A budget near its line joins: the whole delta goes at the window from the oldest entry.
        _ = queue.add(QuotaDeltaQueueTests.usage([QuotaDeltaQueueTests.status("c", spent: 2)], ["a2": 6], generation: 2), at: service.now,
                      held: { held[$0] }, isNear: { _ in true })
        #expect(queue.hasNear)
        #expect(queue.isDue(at: service.now, window: window, farWindow: far))
        let delta = queue.take()
        #expect(delta.statuses.map(\.budgetID) == ["b", "c"])
        #expect(delta.watermarks == ["a1": 5, "a2": 6])
        // Near once in a window stays near until sent, even if a later status says far.
        _ = queue.add(QuotaDeltaQueueTests.usage([QuotaDeltaQueueTests.status("c", spent: 3)], [:], generation: 3), at: service.now,
                      held: { held[$0] }, isNear: { _ in true })
        _ = queue.add(QuotaDeltaQueueTests.usage([QuotaDeltaQueueTests.status("c", spent: 4)], [:], generation: 4), at: service.now,
                      held: { held[$0] }, isNear: { _ in false })
        #expect(queue.hasNear)
    }

    /// A block, or a switch to leased, never waits for any cadence: far or not, urgent goes now.
    @Test func urgentChangesIgnoreTheFarCadence() {
        let service = clock.serviceClock
        var queue = QuotaDeltaQueue()
        let now = service.now
        let held = QuotaDeltaQueueTests.status("b", spent: 50)
        _ = queue.add(QuotaDeltaQueueTests.usage([QuotaDeltaQueueTests.status("c", spent: 2)], [:], generation: 1), at: now,
                      held: { _ in QuotaDeltaQueueTests.status("c", spent: 1) }, isNear: { _ in false })
        var leased = QuotaDeltaQueueTests.status("b", spent: 51)
        leased.leased = true
        let switched = queue.add(QuotaDeltaQueueTests.usage([leased], ["a1": 3], generation: 2), at: now, held: { _ in held }, isNear: { _ in false })
        #expect(switched)
        #expect(queue.isDue(at: now, window: .seconds(1), farWindow: .seconds(10)))
        _ = queue.take()
        let blocked = queue.add(QuotaDeltaQueueTests.usage([QuotaDeltaQueueTests.status("b", spent: 100)], ["a1": 4], generation: 3), at: now,
                                held: { _ in leased }, isNear: { _ in false })
        #expect(blocked)
        #expect(queue.isDue(at: now, window: .seconds(1), farWindow: .seconds(10)))
    }

    /// Only batches after the watermark an agent was sent are kept: what it can still report
    /// as unreflected. The subtraction for a later basis is unchanged.
    @Test func theLedgerForgetsBatchesUpToAPublishedWatermark() {
        var (ledger, now) = burning(to: 1_000)
        for seq in UInt64(1)...300 {
            ledger.committed(added: 1, spent: 1_000 + Int64(seq), agentID: "a", seq: seq, now: now)
        }
        #expect(ledger.recentCount(agentID: "a") == LeaseLedger.recentBatches, "the cap still holds without watermarks")
        ledger.forget(agentID: "a", through: 290)
        #expect(ledger.recentCount(agentID: "a") == 10)
        ledger.forget(agentID: "a", through: 290)  // again: nothing more
        #expect(ledger.recentCount(agentID: "a") == 10)
        // Basis 295: batches 296–300 (5) are in spent and in its unreflected 12.
        now = now.advanced(by: .milliseconds(1))
        _ = ledger.request(LeaseRequestMessage(agentID: "a", budgetID: "b", windowStart: 0, need: 1, want: 2, unreflected: 12, basisSeq: 295),
                           activeAgents: 1, now: now, ttlMilliseconds: 5000)
        #expect(ledger.slices["a"]?.unreflected == 7)
        ledger.forget(agentID: "a", through: 300)
        #expect(ledger.recentCount(agentID: "a") == 0)
    }

    /// The desk forgets up to the watermark sent *before* the latest, so an agent has had a
    /// publish interval to apply it before its lease requests lose the subtraction.
    @Test func theDeskForgetsUpToThePreviousPublishedWatermark() {
        let desk = LeaseDesk(settings: .init(), clock: clock.serviceClock, metrics: AggregatorMetrics(), logger: Logger(label: "test"),
                             isKnownAgent: { _, _ in true }, activeAgents: { 1 }, pauseAfterStart: false)
        var status = BudgetStatus.evaluate(budget: Budget(id: "b", selector: .all, unit: .requests, limit: 1_000_000, period: .day),
                                           exemptions: [], spent: 0, now: clock.serviceClock.unixMilliseconds / 1000)
        desk.annotate(&status)
        for seq in UInt64(1)...20 {
            desk.committed([(budgetID: "b", windowStart: status.windowStart, added: 1, spent: Int64(seq))], agentID: "a", seq: seq)
        }
        #expect(desk.ledger(budgetID: "b")?.recentCount(agentID: "a") == 20)
        desk.published(watermarks: ["a": 10])
        #expect(desk.ledger(budgetID: "b")?.recentCount(agentID: "a") == 20, "just sent: the agent may not have applied it yet")
        desk.published(watermarks: ["a": 15])
        #expect(desk.ledger(budgetID: "b")?.recentCount(agentID: "a") == 10)
        desk.published(watermarks: ["a": 20])
        #expect(desk.ledger(budgetID: "b")?.recentCount(agentID: "a") == 5)
        #expect(desk.isFarFromLine(budgetID: "b", lag: .seconds(2)), "20 of 1,000,000 spent")
        #expect(!desk.isFarFromLine(budgetID: "unknown", lag: .seconds(2)), "no ledger: near, as before the rule")
    }

    @Test func theFarCadenceIsConfigurableAndZeroTurnsItOff() throws {
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true\n").quotaFarSpendInterval == .seconds(2))
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true\nquota_far_spend_ms: 0\n").quotaFarSpendInterval == .zero)
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nquota_far_spend_ms: 90000\n") } throws: { error in
            "\(error)".contains("quota_far_spend_ms")
        }
    }
}
