import Foundation
import Testing
@testable import TollgateAggregator
import TollgateCore

/// What the publisher knows agents hold: snapshots for one agent, and refreshes that send
/// only what differs.
struct QuotaMirrorTests {
    typealias Delta = QuotaDeltaQueue.Delta
    let b1 = QuotaDeltaQueueTests.status("b1", spent: 1)
    let b2 = QuotaDeltaQueueTests.status("b2", spent: 5)

    @Test func theFirstReadingIsABroadcastSnapshotOfEverything() {
        var mirror = QuotaMirror()
        let message = mirror.refresh(statuses: [b2, b1], watermarks: ["a1": 3, "a2": 4], issuedAt: 0)
        #expect(message.isSnapshot && message.version == 1)
        #expect(message.budgets.map(\.budgetID) == ["b1", "b2"])
        #expect(message.watermarks == ["a1": 3, "a2": 4])
    }

    @Test func anAgentsSnapshotIsTheCurrentVersionWithOnlyItsOwnWatermark() {
        var mirror = QuotaMirror()
        _ = mirror.refresh(statuses: [b1, b2], watermarks: ["a1": 3, "a2": 4], issuedAt: 0)
        var later = b1
        later.spent = 9
        let delta = mirror.publish(Delta(statuses: [later], removed: [], watermarks: ["a1": 8]), issuedAt: 0)
        #expect(delta.version == 2 && !delta.isSnapshot)
        let snapshot = mirror.snapshot(for: "a1", issuedAt: 0)
        // No version of its own: agents that applied delta 2 see no gap, and the asking
        // agent's next delta is 3, as everyone's.
        #expect(snapshot.isSnapshot && snapshot.version == 2 && mirror.version == 2)
        #expect(snapshot.budgets.map(\.spent) == [9, 5])
        #expect(snapshot.watermarks == ["a1": 8])
        #expect(mirror.snapshot(for: "a9", issuedAt: 0).watermarks.isEmpty)
    }

    @Test func aRefreshSendsOnlyWhatDiffersAndIsAHeartbeatWhenNothingDoes() {
        var mirror = QuotaMirror()
        _ = mirror.refresh(statuses: [b1, b2], watermarks: ["a1": 3], issuedAt: 0)
        // Re-evaluated a second later: same spend, new `asOf` — nothing to say.
        let same = [QuotaDeltaQueueTests.status("b1", spent: 1, asOf: QuotaDeltaQueueTests.now + 1), b2]
        let heartbeat = mirror.refresh(statuses: same, watermarks: ["a1": 3], issuedAt: 0)
        #expect(!heartbeat.isSnapshot && heartbeat.version == 2)
        #expect(heartbeat.budgets.isEmpty && heartbeat.removedBudgetIDs.isEmpty && heartbeat.watermarks.isEmpty)
        var moved = b2
        moved.spent = 6
        let diff = mirror.refresh(statuses: [moved], watermarks: ["a1": 3, "a2": 1], issuedAt: 0)
        #expect(diff.budgets == [moved] && diff.removedBudgetIDs == ["b1"] && diff.watermarks == ["a2": 1])
    }
}
