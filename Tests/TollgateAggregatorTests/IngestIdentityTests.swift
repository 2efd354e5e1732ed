import Foundation
import Logging
import TestSupport
import Testing
@testable import TollgateAggregator
import TollgateCore
import TollgateWire

/// An agent id is bound to the CurveZMQ key that speaks for it (DESIGN.md decision 3), and
/// a batch cannot move an agent's seq where honest batches would be taken for duplicates.
/// Real CurveZMQ sockets (two agents' keys) against a real aggregator ROUTER and RocksDB.
@Suite struct IngestIdentityTests {
    let serverKeys: CurveKeyPair
    let alice: CurveKeyPair
    let bob: CurveKeyPair
    let keysDirectory: String
    let dataDirectory: String

    init() throws {
        serverKeys = try CurveKeyPair.generate()
        alice = try CurveKeyPair.generate()
        bob = try CurveKeyPair.generate()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-identity-\(UUID())").path
        keysDirectory = root + "/agents"
        dataDirectory = root + "/data"
        try FileManager.default.createDirectory(atPath: keysDirectory, withIntermediateDirectories: true)
        // Only the public halves go in the allowlist; the secret files are written alongside, unused.
        try alice.write(secretKeyTo: root + "/alice.key", publicKeyTo: keysDirectory + "/alice.pub")
        try bob.write(secretKeyTo: root + "/bob.key", publicKeyTo: keysDirectory + "/bob.pub")
    }

    /// A running aggregator ingest over CURVE, on its own store in `dataDirectory`.
    final class Running {
        let server: IngestServer
        let store: UsageStore
        let metrics = AggregatorMetrics()
        let endpoint: String

        init(_ test: IngestIdentityTests) throws {
            store = try UsageStore(directory: test.dataDirectory)
            server = try IngestServer(endpoint: "tcp://127.0.0.1:*",
                                      security: .curve(keyPair: test.serverKeys, authorizedKeysDirectory: test.keysDirectory),
                                      store: store, metrics: metrics, logger: Logger(label: "test"))
            endpoint = try server.start().usage
        }

        func stop() {
            server.stopAndWait()
            store.close()
        }

        func rejected(_ reason: String) -> Double? {
            MetricsText(metrics.exposition())["tollgate_ingest_rejected_total{reason=\"\(reason)\"}"]
        }

        func requests(agentMinute minute: Int64) throws -> Int64 {
            try store.query(fromMinute: minute, toMinute: minute + 1, groupBy: []).reduce(Int64(0)) { $0 + $1.counters.requests }
        }
    }

    /// A DEALER speaking with `keys`, in its own context like a real agent process.
    private func dealer(_ keys: CurveKeyPair, to endpoint: String) throws -> ZMQSocket {
        let socket = try ZMQSocket(ZMQContext(), .dealer)
        try socket.set(.curveClient(serverKey: serverKeys.publicKey, keyPair: keys))
        try socket.connect(endpoint)
        return socket
    }

    /// Sends one batch of `requests` requests in `minute` and waits for its reply.
    private func ship(_ socket: ZMQSocket, agent: String, seq: UInt64, floor: UInt64? = nil, highSeq: UInt64 = 0,
                      minute: Int64 = 1, requests: UInt64 = 1) throws -> UsageReply {
        var counters = UsageCounters()
        counters.requests = Int64(requests)
        let cell = Cell(key: CellKey(minute: minute, dimensions: Dimensions()), counters: counters)
        let message = UsageBatchMessage(agentID: agent, seq: seq, floorSeq: floor ?? seq, cells: [cell], highSeq: highSeq)
        try socket.send(try UsageBatchCodec.encode(message), dontWait: false)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try ZMQSocket.waitForInput(on: [socket], milliseconds: 100)[0], let reply = try socket.receive() {
                return try UsageReply(decoding: reply[0])
            }
        }
        throw TestFailure("no reply to batch \(seq) of \(agent)")
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func anotherKeyCannotShipOrEraseAnAgentsUsage() throws {
        let aggregator = try Running(self)
        defer { aggregator.stop() }
        #expect(aggregator.rejected("identity") == 0, "exported from start")
        let a = try dealer(alice, to: aggregator.endpoint)
        let b = try dealer(bob, to: aggregator.endpoint)

        #expect(try ship(a, agent: "agent-a", seq: 1) == .ack(seq: 1))
        #expect(try aggregator.store.binding(agentID: "agent-a") == "alice")

        // Bob claims Alice's id with a huge seq: the attack that used to erase her usage.
        guard case .refused(let seq, .identity, let lastApplied, let reason) = try ship(b, agent: "agent-a", seq: 500, floor: 500, requests: 1_000) else {
            Issue.record("a batch for another key's agent id must be refused")
            return
        }
        #expect(seq == 500)
        #expect(lastApplied == 0, "the refusal does not tell Bob Alice's seq")
        #expect(reason.contains("alice") && reason.contains("bob"))
        #expect(aggregator.rejected("identity") == 1)
        #expect(try aggregator.store.lastSeq(agentID: "agent-a") == 1)

        // Alice's next batches apply as if nothing happened; none of Bob's usage counted.
        for next in 2...4 as ClosedRange<UInt64> {
            #expect(try ship(a, agent: "agent-a", seq: next) == .ack(seq: next))
        }
        #expect(try aggregator.requests(agentMinute: 1) == 4)

        // Bob ships for his own id freely, and that id is then his.
        #expect(try ship(b, agent: "agent-b", seq: 1) == .ack(seq: 1))
        guard case .refused(_, .identity, _, _) = try ship(a, agent: "agent-b", seq: 2) else {
            Issue.record("Alice must not ship for Bob's agent id either")
            return
        }
        #expect(aggregator.rejected("identity") == 2)
    }

    @Test func aSeqFarBeyondTheLastAppliedIsRefusedNotTakenAsTheNewMark() throws {
        let aggregator = try Running(self)
        defer { aggregator.stop() }
        let a = try dealer(alice, to: aggregator.endpoint)
        #expect(aggregator.rejected("seq_too_far") == 0)
        #expect(try ship(a, agent: "agent-a", seq: 1) == .ack(seq: 1))

        let far = 1 + aggregator.store.maxSeqAdvance + 1
        guard case .refused(far, .seqTooFar, 1, _) = try ship(a, agent: "agent-a", seq: far, floor: far) else {
            Issue.record("a seq more than maxSeqAdvance past the last must be refused")
            return
        }
        #expect(aggregator.rejected("seq_too_far") == 1)
        #expect(try aggregator.store.lastSeq(agentID: "agent-a") == 1)
        // A restart's skip (a fresh epoch a seq or two above, bridged by floor_seq) still applies.
        #expect(try ship(a, agent: "agent-a", seq: 3, floor: 3) == .ack(seq: 3))
        // So does the largest skip the window allows.
        let edge = 3 + aggregator.store.maxSeqAdvance
        #expect(try ship(a, agent: "agent-a", seq: edge, floor: edge) == .ack(seq: edge))
        #expect(try aggregator.requests(agentMinute: 1) == 3)
        // An agent never seen starts at its own seq: an aggregator whose data directory was
        // reset must not refuse a fleet that has numbered past the window.
        let b = try dealer(bob, to: aggregator.endpoint)
        #expect(try ship(b, agent: "agent-b", seq: 5 * aggregator.store.maxSeqAdvance) == .ack(seq: 5 * aggregator.store.maxSeqAdvance))
        #expect(aggregator.rejected("seq_too_far") == 1)
    }

    @Test func theFirstContactBindingSurvivesARestart() throws {
        var aggregator = try Running(self)
        #expect(try ship(try dealer(alice, to: aggregator.endpoint), agent: "agent-a", seq: 1) == .ack(seq: 1))
        aggregator.stop()

        aggregator = try Running(self)
        defer { aggregator.stop() }
        #expect(try aggregator.store.binding(agentID: "agent-a") == "alice")
        guard case .refused(_, .identity, _, _) = try ship(try dealer(bob, to: aggregator.endpoint), agent: "agent-a", seq: 2) else {
            Issue.record("the binding must be read back from RocksDB after a restart")
            return
        }
        #expect(try ship(try dealer(alice, to: aggregator.endpoint), agent: "agent-a", seq: 2) == .ack(seq: 2))
    }

    @Test func anAgentWhoseStateWentBackInTimeIsToldTheAggregatorsLastSeq() throws {
        let aggregator = try Running(self)
        defer { aggregator.stop() }
        let a = try dealer(alice, to: aggregator.endpoint)
        for seq in 1...5 as ClosedRange<UInt64> {
            #expect(try ship(a, agent: "agent-a", seq: seq, highSeq: seq) == .ack(seq: seq))
        }
        // Restored from a backup taken at seq 2: it numbers its new usage 3, never having numbered 4 or 5.
        guard case .refused(3, .stateBehind, 5, let reason) = try ship(a, agent: "agent-a", seq: 3, highSeq: 3, requests: 7) else {
            Issue.record("new usage numbered below the aggregator's last seq must not be acknowledged as a duplicate")
            return
        }
        #expect(reason.contains("backup"))
        #expect(aggregator.rejected("state_behind") == 1)
        // A lost-ack resend from an agent that did number that far is still a plain duplicate.
        #expect(try ship(a, agent: "agent-a", seq: 3, highSeq: 5) == .ack(seq: 5))
        #expect(aggregator.rejected("state_behind") == 1)
        // Renumbered above the aggregator's last seq, the new usage applies.
        #expect(try ship(a, agent: "agent-a", seq: 6, highSeq: 6, requests: 7) == .ack(seq: 6))
        #expect(try aggregator.requests(agentMinute: 1) == 5 + 7)
    }
}
