import Foundation
import Logging
import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

/// Snapshots to one subscriber, through the real ingest threads and sockets: an agent that
/// subscribes to its own topic gets a snapshot that no other agent receives, at the version
/// the broadcasts have reached, so the deltas that follow apply without a gap.
@Suite(.serialized) struct QuotaTopicChannelTests {
    /// A message as a subscriber received it: its topic (nil for a broadcast) and the update.
    struct Received {
        var topic: Data?
        var update: QuotaUpdateMessage
    }

    func subscribe(_ context: ZMQContext, agent: String, endpoint: String) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .sub)
        try socket.set(.subscribe(QuotaTopic.broadcast.bytes))
        try socket.set(.subscribe(QuotaTopic.agent(agent).bytes))
        try socket.connect(endpoint)
        return socket
    }

    /// Everything `socket` receives until `done` holds for what it received, or `seconds` pass.
    func receive(_ socket: ZMQSocket, seconds: Double, until done: ([Received]) -> Bool = { _ in false }) throws -> [Received] {
        var received: [Received] = []
        let deadline = Date().addingTimeInterval(seconds)
        while !done(received), Date() < deadline {
            guard try socket.waitForInput(milliseconds: 20) else { continue }
            while let frames = try socket.receive() {
                received.append(Received(topic: frames.count == 2 ? frames[0] : nil, update: try QuotaUpdateCodec.decode(frames[frames.count - 1])))
            }
        }
        return received
    }

    @Test func aSubscribersSnapshotGoesToItAloneAndTheBroadcastsContinueItsVersions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quota-topic-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = AggregatorMetrics()
        let store = try UsageStore(directory: directory)
        let board = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: Logger(label: "test")))
        try board.setBudget(Budget(id: "all", selector: .all, unit: .requests, limit: 1_000, period: .day))
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*",
                                      quota: IngestServer.QuotaSettings(endpoint: "tcp://127.0.0.1:*", snapshotInterval: .milliseconds(100)),
                                      security: .insecurePlaintext, store: store, budgets: board, metrics: metrics, logger: Logger(label: "test"))
        let bound = try server.start()
        defer { server.stopAndWait(); store.close() }
        let quota = try #require(bound.quota)
        let context = ZMQContext()

        // An agent's own snapshot (the channel's very first message, a broadcast snapshot,
        // may reach it too, when it connects before the first refresh).
        func isOwnSnapshot(_ agent: String) -> (Received) -> Bool {
            { $0.update.isSnapshot && $0.topic == QuotaTopic.agent(agent).bytes }
        }
        let first = try subscribe(context, agent: "a1", endpoint: quota)
        let firstStart = try receive(first, seconds: 10) { $0.contains(where: isOwnSnapshot("a1")) }
        let firstSnapshot = try #require(firstStart.first(where: isOwnSnapshot("a1")))
        #expect(firstSnapshot.update.budgets.map(\.budgetID) == ["all"])

        let second = try subscribe(context, agent: "a10", endpoint: quota)
        let secondStart = try receive(second, seconds: 10) { $0.contains(where: isOwnSnapshot("a10")) }
        let secondSnapshot = try #require(secondStart.first(where: isOwnSnapshot("a10")))
        // Heartbeats (a refresh every 100 ms) follow the snapshot's version without a gap.
        let secondLater = try receive(second, seconds: 0.5)
        let versions = ([secondSnapshot] + secondStart.drop { !isOwnSnapshot("a10")($0) }.dropFirst() + secondLater).map(\.update.version)
        #expect(versions.count >= 3 && zip(versions, versions.dropFirst()).allSatisfy { $1 == $0 + 1 }, "\(versions)")

        // The first agent's socket saw the second's subscription answered nowhere: after its
        // own snapshot, only broadcast deltas (a1 is a prefix of a10's id, not of its topic).
        let firstLater = try receive(first, seconds: 0.2)
        let afterOwn = firstStart.drop { !isOwnSnapshot("a1")($0) }.dropFirst() + firstLater
        #expect(afterOwn.count >= 3)
        #expect(afterOwn.allSatisfy { !$0.update.isSnapshot && $0.topic == nil }, "\(afterOwn.map(\.update))")
        #expect(MetricsText(metrics.exposition())["tollgate_quota_subscribers"] == 2)
    }

    @Test func aGapIsRepairedByResubscribingToTheAgentsOwnTopic() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quota-topic-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = AggregatorMetrics()
        let store = try UsageStore(directory: directory)
        let board = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: Logger(label: "test")))
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*",
                                      quota: IngestServer.QuotaSettings(endpoint: "tcp://127.0.0.1:*", snapshotInterval: .milliseconds(100)),
                                      security: .insecurePlaintext, store: store, budgets: board, metrics: metrics, logger: Logger(label: "test"))
        let bound = try server.start()
        defer { server.stopAndWait(); store.close() }
        let context = ZMQContext()
        let socket = try subscribe(context, agent: "a1", endpoint: try #require(bound.quota))
        let own = { (received: Received) in received.update.isSnapshot && received.topic == QuotaTopic.agent("a1").bytes }
        _ = try receive(socket, seconds: 10) { $0.contains(where: own) }
        // What QuotaSubscriber does on a gap.
        try socket.set(.unsubscribe(QuotaTopic.agent("a1").bytes))
        try socket.set(.subscribe(QuotaTopic.agent("a1").bytes))
        let again = try receive(socket, seconds: 10) { $0.contains(where: own) }
        #expect(again.contains(where: own))
    }
}
