import Foundation
import Testing
@testable import TollgateAgent
import TollgateCore
import TollgateWire

/// An agent's own watermark, sent alone on its topic, joins the broadcast of its version.
struct QuotaMessageAssemblerTests {
    func update(_ version: UInt64, snapshot: Bool = false, spent: Int64? = nil, watermarks: [String: UInt64] = [:]) -> QuotaUpdateMessage {
        let budgets = spent.map { spent in
            [BudgetStatus.evaluate(budget: Budget(id: "b", selector: .all, unit: .requests, limit: 100, period: .day),
                                   exemptions: [], spent: spent, now: 1_767_225_600)]
        } ?? []
        return QuotaUpdateMessage(version: version, isSnapshot: snapshot, budgets: budgets, issuedAtMilliseconds: 0, watermarks: watermarks)
    }

    @Test func aCompanionWaitsForItsBroadcastAndGoesInWithIt() throws {
        var assembler = QuotaMessageAssembler()
        let held = assembler.receive(.own(update(7, watermarks: ["me": 12])))
        #expect(held == nil)
        let received = assembler.receive(.broadcast(update(7, spent: 40)))
        let applied = try #require(received)
        #expect(applied.version == 7 && applied.budgets.map(\.spent) == [40] && applied.watermarks == ["me": 12])
        // Used once: the next broadcast carries no watermark of ours.
        let next = assembler.receive(.broadcast(update(8, spent: 41)))
        #expect(next?.watermarks == [:])
    }

    @Test func aCompanionWhoseBroadcastWasLostIsDropped() {
        var assembler = QuotaMessageAssembler()
        _ = assembler.receive(.own(update(7, watermarks: ["me": 12])))
        // Broadcast 7 never came (the agent's queue overflowed): 8 is a gap for the book,
        // and must not release spend that 8's statuses may not include.
        let next = assembler.receive(.broadcast(update(8, spent: 41)))
        #expect(next?.watermarks == [:])
    }

    @Test func aSnapshotOnTheAgentsTopicAppliesAtOnce() {
        var assembler = QuotaMessageAssembler()
        _ = assembler.receive(.own(update(7, watermarks: ["me": 12])))
        let snapshot = update(9, snapshot: true, spent: 50, watermarks: ["me": 14])
        let applied = assembler.receive(.own(snapshot))
        #expect(applied == snapshot)
        let stale = assembler.receive(.broadcast(update(7)))
        #expect(stale?.watermarks == [:])
    }
}
