import Foundation
import Logging
import NIOHTTP1
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

@Suite struct FleetRegistryTests {
    static func report(_ agentID: String, name: String, quotaAgeMs: Int64? = 200) -> AgentReportMessage {
        AgentReportMessage(agentID: agentID, name: name, version: "0.1.0", ackedSeq: 4, spoolBatches: 1, spoolBytes: 900, quotaVersion: 17,
                           quotaAgeMs: quotaAgeMs, staleAfterMs: 30_000, reportIntervalMs: 1_000, sentUnixMs: 0)
    }

    /// Through the real ROUTER: a report (one frame) lands in the registry with the peer's
    /// address, a batch (two frames) moves its seq, and a malformed report is counted, not
    /// answered, while the socket keeps serving.
    @Test func reportsAndBatchesReachTheRegistryOverTheUsageSocket() throws {
        try withTemporaryDirectory { directory in
            let metrics = AggregatorMetrics()
            let store = try UsageStore(directory: directory)
            let fleet = try FleetRegistry(store: store, metrics: metrics, logger: Logger(label: "test"))
            let server = try IngestServer(endpoint: "tcp://127.0.0.1:*", security: .insecurePlaintext, store: store, fleet: fleet,
                                          metrics: metrics, logger: Logger(label: "test"))
            let bound = try server.start()
            defer { server.stopAndWait() }

            let context = ZMQContext()
            let dealer = try ZMQSocket(context, .dealer)
            try dealer.connect(bound.usage)
            try dealer.send([Data([0xFF, 0x01])], dontWait: false)
            try dealer.send([try AgentReportCodec.encode(Self.report("a1", name: "host-a"))], dontWait: false)
            try dealer.send(try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a1", seq: 1, floorSeq: 1, cells: [])), dontWait: false)
            // The batch's ack comes back; the reports get no reply.
            for _ in 0..<200 where try !dealer.waitForInput(milliseconds: 25) {}
            #expect(try dealer.receive().map { try UsageReply(decoding: $0[0]) } == .ack(seq: 1))

            let agents = fleet.agents()
            #expect(agents.count == 1)
            let agent = try #require(agents.first)
            #expect(agent.name == "host-a" && agent.state == .enforcing && agent.appliedSeq == 1 && agent.quotaVersion == 17)
            #expect(agent.address == "127.0.0.1")
            #expect(agent.lastBatchAgeMs != nil)
            let page = MetricsText(metrics.exposition())
            #expect(page["tollgate_fleet_reports_total"] == 1)
            #expect(page["tollgate_fleet_reports_rejected_total{reason=\"unreadable\"}"] == 1)
            #expect(page["tollgate_ingest_rejected_total{reason=\"frame_count\"}"] == 0)
        }
    }

    /// A restart keeps the list: every agent comes back offline with what it last said, and
    /// agents that only ever shipped (before fleet records existed) are listed by their seq.
    @Test func aRestartKeepsEveryAgentOfflineUntilHeardFrom() throws {
        try withTemporaryDirectory { directory in
            let clock = ManualClock()
            do {
                let store = try UsageStore(directory: directory)
                _ = try store.apply(UsageBatchMessage(agentID: "shipped-only", seq: 5, floorSeq: 5, cells: []))
                let fleet = try FleetRegistry(store: store, metrics: AggregatorMetrics(), logger: Logger(label: "test"), clock: clock.serviceClock)
                fleet.receive(reportFrame: try AgentReportCodec.encode(Self.report("a1", name: "host-a")), keyName: "ci-a", address: "10.1.1.1")
                fleet.receive(reportFrame: try AgentReportCodec.encode(Self.report("a2", name: "host-b", quotaAgeMs: nil)), keyName: nil, address: nil)
                #expect(fleet.agents().map(\.state) == [.offline, .enforcing, .neverSubscribed])
            }
            clock.advance(by: .seconds(1))
            let metrics = AggregatorMetrics()
            let fleet = try FleetRegistry(store: try UsageStore(directory: directory), metrics: metrics, logger: Logger(label: "test"),
                                          clock: clock.serviceClock)
            let agents = fleet.agents()
            #expect(agents.map(\.agentID) == ["shipped-only", "a1", "a2"])
            #expect(agents.allSatisfy { $0.state == .offline })
            #expect(agents[0].appliedSeq == 5 && agents[0].name == nil)
            #expect(agents[1].name == "host-a" && agents[1].keyName == "ci-a" && agents[1].address == "10.1.1.1")
            #expect(agents[1].lastReportAgeMs == 1_000)
            fleet.updateMetrics()
            #expect(MetricsText(metrics.exposition())["tollgate_fleet_agents{state=\"offline\"}"] == 3)
            #expect(MetricsText(metrics.exposition())["tollgate_fleet_agents{state=\"enforcing\"}"] == 0)
        }
    }

    @Test func theAgentsEndpointNeedsTheTokenAndSpeaksTheContract() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let metrics = AggregatorMetrics()
            let fleet = try FleetRegistry(store: store, metrics: metrics, logger: Logger(label: "test"))
            fleet.receive(reportFrame: try AgentReportCodec.encode(Self.report("a1", name: "host-a", quotaAgeMs: nil)), keyName: nil, address: "10.0.0.1")
            let router = APIRouter(store: store, metrics: metrics, token: APIToken("t0ken"), fleet: fleet)
            #expect(router.respond(method: .GET, uri: "/v1/agents").status == .unauthorized)
            #expect(router.respond(method: .GET, uri: "/v1/agents", authorization: "Bearer nope").status == .unauthorized)
            let response = router.respond(method: .GET, uri: "/v1/agents", authorization: "Bearer t0ken")
            #expect(response.status == .ok)
            let agents = try JSONDecoder().decode([AgentView].self, from: Data(response.body.utf8))
            #expect(agents.map(\.state) == [.neverSubscribed])
            #expect(response.body.contains(#""state":"never_subscribed""#) && response.body.contains(#""applied_seq":0"#))
            let page = router.respond(method: .GET, uri: "/metrics").body
            #expect(MetricsText(page)["tollgate_fleet_agents{state=\"never_subscribed\"}"] == 1)
            #expect(APIRouter(store: store, metrics: metrics, token: APIToken("t0ken")).respond(method: .GET, uri: "/v1/agents", authorization: "Bearer t0ken").status == .notFound)
        }
    }
}
