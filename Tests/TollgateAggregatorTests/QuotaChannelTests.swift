import Foundation
import Logging
import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

/// The quota channel through the real ingest threads and sockets: every message's `spent`
/// values include exactly the batches its watermarks name, however commits, deltas and
/// snapshots interleave, which is what lets an agent subtract its own spend exactly.
@Suite(.serialized) struct QuotaChannelTests {
    /// What an agent holds after applying messages in order (a version gap waits for a snapshot).
    struct View {
        var version: UInt64 = 0
        var spent: Int64?
        var watermarks: [String: UInt64] = [:]
        var synced = false

        mutating func apply(_ message: QuotaUpdateMessage) -> Bool {
            if !message.isSnapshot && (!synced || message.version != version + 1) {
                synced = false
                return false
            }
            synced = true
            version = message.version
            if message.isSnapshot { spent = nil }
            if let status = message.budgets.first(where: { $0.budgetID == "all" }) { spent = status.spent }
            watermarks.merge(message.watermarks) { $1 }
            return true
        }
    }

    func server(_ directory: String, metrics: AggregatorMetrics) throws -> (IngestServer, UsageStore) {
        let store = try UsageStore(directory: directory)
        let board = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: Logger(label: "test")))
        try board.setBudget(Budget(id: "all", selector: .all, unit: .requests, limit: 1_000_000, period: .day))
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*",
                                      quota: IngestServer.QuotaSettings(endpoint: "tcp://127.0.0.1:*", snapshotInterval: .milliseconds(150)),
                                      security: .insecurePlaintext, store: store, budgets: board, metrics: metrics, logger: Logger(label: "test"))
        return (server, store)
    }

    /// Receives and checks messages until `done` holds for the view or `seconds` pass.
    func follow(_ subscriber: ZMQSocket, _ view: inout View, checked: inout Int, seconds: Double = 20, until done: (View) -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !done(view), Date() < deadline {
            guard try subscriber.waitForInput(milliseconds: 100) else { continue }
            while let frames = try subscriber.receive() {
                let message = try QuotaUpdateCodec.decode(frames[0])
                guard view.apply(message), let spent = view.spent else { continue }
                // Each batch below adds one request to the `*` budget.
                let named = view.watermarks.values.reduce(Int64(0)) { $0 + Int64($1) }
                #expect(spent == named, "version \(message.version) (snapshot: \(message.isSnapshot)): spent \(spent), watermarks \(view.watermarks)")
                checked += 1
            }
        }
    }

    @Test func everyMessagesSpendMatchesItsWatermarksExactlyAcrossDeltasSnapshotsAndARestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quota-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var counters = UsageCounters()
        counters.requests = 1
        let minute = Int64(Date().timeIntervalSince1970) / 60
        let cell = Cell(key: CellKey(minute: minute, dimensions: Dimensions()), counters: counters)
        let agents = ["agent-a", "agent-b", "agent-c"]
        let batches = 40
        let context = ZMQContext()
        var view = View()
        var checked = 0
        do {
            let (server, store) = try server(directory, metrics: AggregatorMetrics())
            let bound = try server.start()
            // Closed here, not whenever the last reference goes: the restart reopens it.
            defer { server.stopAndWait(); store.close() }
            let subscriber = try ZMQSocket(context, .sub)
            try subscriber.set(.subscribe(Data()))
            try subscriber.connect(try #require(bound.quota))
            try follow(subscriber, &view, checked: &checked) { $0.synced }
            let dealers = try agents.map { _ -> ZMQSocket in
                let dealer = try ZMQSocket(context, .dealer)
                try dealer.connect(bound.usage)
                return dealer
            }
            // Interleaved, a few at a time, so commits group and deltas coalesce while
            // snapshots (every 150 ms) fall in between.
            for seq in 1...batches {
                for (index, dealer) in dealers.enumerated() {
                    let message = UsageBatchMessage(agentID: agents[index], seq: UInt64(seq), floorSeq: 0, cells: [cell])
                    try dealer.send(try UsageBatchCodec.encode(message), dontWait: false)
                }
                if seq % 8 == 0 { try follow(subscriber, &view, checked: &checked, seconds: 0.2) { _ in false } }
            }
            try follow(subscriber, &view, checked: &checked) { view in agents.allSatisfy { view.watermarks[$0] == UInt64(batches) } }
            #expect(view.spent == Int64(agents.count * batches))
        }
        #expect(checked > 5, "too few messages to judge: \(checked)")

        // Restarted: the first snapshot names every agent, read back from the store.
        let (server, store) = try server(directory, metrics: AggregatorMetrics())
        let bound = try server.start()
        defer { server.stopAndWait(); store.close() }
        let subscriber = try ZMQSocket(context, .sub)
        try subscriber.set(.subscribe(Data()))
        try subscriber.connect(try #require(bound.quota))
        var restarted = View()
        try follow(subscriber, &restarted, checked: &checked) { $0.synced }
        #expect(restarted.spent == Int64(agents.count * batches))
        #expect(agents.allSatisfy { restarted.watermarks[$0] == UInt64(batches) }, "\(restarted.watermarks)")
    }
}
