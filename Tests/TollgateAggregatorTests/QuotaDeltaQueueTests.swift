import Foundation
import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateCore

/// The coalescing rules of the quota channel, with plain values and a manual clock: what
/// merges, what waits for the window, what goes at once, and that watermarks stay exact.
struct QuotaDeltaQueueTests {
    static let now: Int64 = 1_767_225_600
    let clock = ManualClock()
    /// One service clock over `clock` (each `serviceClock` counts from when it was made).
    let service: ServiceClock
    let window = Duration.milliseconds(20)

    init() {
        service = clock.serviceClock
    }

    static func status(_ id: String, spent: Int64, limit: Int64 = 100, asOf: Int64 = now) -> BudgetStatus {
        BudgetStatus.evaluate(budget: Budget(id: id, selector: .all, unit: .requests, limit: limit, period: .day),
                              exemptions: [], spent: spent, now: asOf)
    }

    static func usage(_ statuses: [BudgetStatus], _ watermarks: [String: UInt64], generation: UInt64) -> BudgetUpdate {
        BudgetUpdate(cause: .usage, statuses: statuses, removedBudgetIDs: [], watermarks: watermarks, generation: generation)
    }

    @Test func spendOnlyChangesMergeAndWaitForTheWindow() {
        var queue = QuotaDeltaQueue()
        let held = ["b": Self.status("b", spent: 1)]
        var urgent = queue.add(Self.usage([Self.status("b", spent: 2)], ["a1": 5], generation: 10), at: service.now) { held[$0] }
        clock.advance(by: .milliseconds(5))
        urgent = urgent || queue.add(Self.usage([Self.status("b", spent: 3)], ["a2": 7], generation: 11), at: service.now) { held[$0] }
        clock.advance(by: .milliseconds(5))
        urgent = urgent || queue.add(Self.usage([Self.status("b", spent: 4, asOf: Self.now + 1)], ["a1": 6], generation: 12), at: service.now) { held[$0] }
        #expect(!urgent && !queue.isUrgent)
        // Due a window after the first change waited, not after the last.
        #expect(!queue.isDue(at: service.now, window: window))
        clock.advance(by: .milliseconds(10))
        #expect(queue.isDue(at: service.now, window: window))
        let delta = queue.take()
        // The latest spend, and the latest watermark of every agent named in any merged change.
        #expect(delta.statuses.map(\.spent) == [4])
        #expect(delta.watermarks == ["a1": 6, "a2": 7])
        #expect(queue.isEmpty && queue.deadline(window: window) == nil)
    }

    /// With leases off the published overshoot bound is burn rate × horizon, new on every
    /// commit; agents decide nothing by it, so it must not send each commit to every agent.
    @Test func aMovingOvershootBoundIsNotUrgent() {
        var queue = QuotaDeltaQueue()
        var held = Self.status("b", spent: 1)
        held.overshootBound = 100
        var moved = Self.status("b", spent: 2)
        moved.overshootBound = 250
        let urgent = queue.add(Self.usage([moved], ["a1": 5], generation: 10), at: service.now) { _ in held }
        #expect(!urgent && !queue.isUrgent)
        var leased = moved
        leased.leased = true
        #expect(QuotaDeltaQueue.changesDecisions(from: moved, to: leased), "the switch to leased changes what agents do")
    }

    @Test func aStatusReadEarlierNeverReplacesALaterOneNorAWatermarkGoesBack() {
        var queue = QuotaDeltaQueue()
        let start = service.now
        _ = queue.add(Self.usage([Self.status("b", spent: 9)], ["a1": 9], generation: 20), at: start) { _ in Self.status("b", spent: 1) }
        // The commit thread can hand over a change read at an older generation after a newer one.
        _ = queue.add(Self.usage([Self.status("b", spent: 8)], ["a1": 8], generation: 19), at: start) { _ in Self.status("b", spent: 1) }
        let delta = queue.take()
        #expect(delta.statuses.map(\.spent) == [9])
        #expect(delta.watermarks == ["a1": 9])
    }

    @Test func aBudgetThatStartsBlockingGoesAtOnceWithEverythingMergedSoFar() {
        var queue = QuotaDeltaQueue()
        let held = ["b": Self.status("b", spent: 50), "c": Self.status("c", spent: 1)]
        let start = service.now
        #expect(!queue.add(Self.usage([Self.status("c", spent: 2)], ["a1": 3], generation: 1), at: start) { held[$0] })
        let blocked = Self.status("b", spent: 100)
        #expect(blocked.isBlocking)
        #expect(queue.add(Self.usage([blocked], ["a2": 4], generation: 2), at: start) { held[$0] })
        #expect(queue.isDue(at: start, window: .seconds(10)))
        let delta = queue.take()
        #expect(delta.statuses.map(\.budgetID) == ["b", "c"])
        #expect(delta.watermarks == ["a1": 3, "a2": 4])
        #expect(!queue.isUrgent)
    }

    @Test(arguments: [
        ("new budget", nil as BudgetStatus?, status("b", spent: 0)),
        ("warning crossed", status("b", spent: 40), status("b", spent: 60)),
        ("limit raised", status("b", spent: 100), status("b", spent: 100, limit: 200)),
        ("new window", status("b", spent: 90), status("b", spent: 0, asOf: now + 86_400)),
    ])
    func aChangeInWhatAgentsDecideIsUrgent(_ name: String, held: BudgetStatus?, new: BudgetStatus) {
        var queue = QuotaDeltaQueue()
        #expect(queue.add(Self.usage([new], [:], generation: 1), at: service.now) { _ in held }, "\(name)")
    }

    @Test func aRemovedBudgetIsUrgentAndReplacesItsQueuedStatus() {
        var queue = QuotaDeltaQueue()
        let now = service.now
        _ = queue.add(Self.usage([Self.status("b", spent: 2)], [:], generation: 1), at: now) { _ in Self.status("b", spent: 1) }
        #expect(queue.add(BudgetUpdate(cause: .budgetRemoved, statuses: [], removedBudgetIDs: ["b"], generation: 2), at: now) { _ in nil })
        let delta = queue.take()
        #expect(delta.statuses.isEmpty && delta.removed == ["b"])
    }

    @Test func aFullReadingDropsWhatItCoversAndRefusesItLater() {
        var queue = QuotaDeltaQueue()
        let now = service.now
        _ = queue.add(Self.usage([Self.status("b", spent: 2)], ["a1": 2], generation: 5), at: now) { _ in Self.status("b", spent: 1) }
        _ = queue.add(Self.usage([Self.status("c", spent: 7)], ["a2": 7], generation: 8), at: now) { _ in Self.status("c", spent: 1) }
        queue.cover(through: 6)
        // Enqueued after the reading, but read before it: the reading already went out newer.
        _ = queue.add(Self.usage([Self.status("b", spent: 3)], ["a1": 3], generation: 6), at: now) { _ in Self.status("b", spent: 1) }
        let delta = queue.take()
        #expect(delta.statuses.map(\.budgetID) == ["c"])
        #expect(delta.watermarks == ["a2": 7])
    }
}
