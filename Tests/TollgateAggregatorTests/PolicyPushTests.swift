import Foundation
import Logging
import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

/// Policies on the quota channel through the real ingest threads and sockets: every policy in
/// a subscriber's snapshot, and a change reaching subscribers as a delta at once (not at the
/// next refresh), like a budget change.
@Suite(.serialized) struct PolicyPushTests {
    @Test func aPolicyChangeReachesSubscribersWithinASecondAndSnapshotsCarryEveryPolicy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-push-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = AggregatorMetrics()
        let store = try UsageStore(directory: directory)
        let book = try PolicyBook(store: store, catalog: PolicyAPITests.catalog)
        try book.set(try PolicyBookTests.route("a", "gpt-4.1", to: "gpt-4.1-mini"))
        let board = BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: Logger(label: "test")))
        // A refresh far away: what arrives after the snapshot is the policy's own delta.
        let server = try IngestServer(endpoint: "tcp://127.0.0.1:*",
                                      quota: IngestServer.QuotaSettings(endpoint: "tcp://127.0.0.1:*", snapshotInterval: .seconds(600)),
                                      security: .insecurePlaintext, store: store, budgets: board, metrics: metrics, logger: Logger(label: "test"),
                                      policies: book)
        let bound = try server.start()
        defer { server.stopAndWait(); store.close() }
        let quota = try #require(bound.quota)
        let context = ZMQContext()
        let topics = QuotaTopicChannelTests()

        let first = try topics.subscribe(context, agent: "a1", endpoint: quota)
        let own = { (received: QuotaTopicChannelTests.Received) in received.update.isSnapshot && received.topic == QuotaTopic.agent("a1").bytes }
        let snapshot = try #require(try topics.receive(first, seconds: 10) { $0.contains(where: own) }.last(where: own))
        #expect(snapshot.update.policies.map(\.id) == ["a"])

        let started = Date()
        try book.set(try PolicyBookTests.route("b", "claude-*", to: "claude-haiku-4-5", scope: "use_case=autocomplete"))
        let added = try topics.receive(first, seconds: 5) { $0.contains { !$0.update.policies.isEmpty } }
        let elapsed = Date().timeIntervalSince(started)
        let delta = try #require(added.first { !$0.update.policies.isEmpty })
        #expect(!delta.update.isSnapshot && delta.update.policies.map(\.id) == ["b"] && delta.update.version == snapshot.update.version + 1)
        #expect(elapsed < 1, "a policy change took \(elapsed) s to reach a subscriber")

        try book.remove(id: "a")
        let removed = try topics.receive(first, seconds: 5) { $0.contains { !$0.update.removedPolicyIDs.isEmpty } }
        #expect(removed.first { !$0.update.removedPolicyIDs.isEmpty }?.update.removedPolicyIDs == ["a"])

        let second = try topics.subscribe(context, agent: "a2", endpoint: quota)
        let ownSecond = { (received: QuotaTopicChannelTests.Received) in received.update.isSnapshot && received.topic == QuotaTopic.agent("a2").bytes }
        let later = try #require(try topics.receive(second, seconds: 10) { $0.contains(where: ownSecond) }.last(where: ownSecond))
        #expect(later.update.policies.map(\.id) == ["b"] && later.update.policies[0].target == "claude-haiku-4-5")
    }
}
