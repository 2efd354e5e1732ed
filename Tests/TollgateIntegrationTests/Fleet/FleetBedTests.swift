import Foundation
import Testing
import TollgateAgent
import TollgateAggregator
import TollgateCore
import TollgateMockProvider
import TollgateProviders
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fleet on a real network: the aggregator, the mock provider and four to eight agents,
/// each on a host of its own (`FleetBed`, network namespaces on bridges), configured the
/// README's way with nothing but the aggregator's usage address on the agents. Caps set at
/// the aggregator reach every host, a partitioned host keeps serving and its usage lands
/// exactly once, the aggregator restarts mid-traffic, and a host joins. These need root and
/// `ip netns`; without them they fail, saying so: a fleet test that silently skips proves
/// nothing.
@Suite(.serialized) struct FleetBedTests {
    /// How long a host stays cut off in the partition test. The issue asks for ~30 s, long
    /// enough to cross the agent's 10 s reconnect-after-silence on both channels (twice) and
    /// its 30 s `stale_after_ms`; `TOLLGATE_FLEET_PARTITION_SECONDS` shortens it for a quick run.
    static let partitionSeconds: Double = ProcessInfo.processInfo.environment["TOLLGATE_FLEET_PARTITION_SECONDS"].flatMap(Double.init) ?? 30

    // MARK: Caps reach every host

    /// The finding behind issue #15: a `*` cap of 3 requests showed `6/3 BLOCKED` at the
    /// aggregator while every request passed, because agents never heard it. Spend goes past
    /// the limit first, so the expected answer is unambiguous: once the cap is set, every
    /// host must refuse, and within a second.
    @Test func aCapSetOnTheAggregatorIsEnforcedOnEveryHostWithinOneSecond() async throws {
        let bed = try FleetBed(agents: 4)
        defer { bed.shutdown() }
        try await bed.start()

        for agent in bed.agents {
            for call in 0..<2 {
                let reply = try await chat(bed, agent, team: "fleet", prompt: "\(agent) before the cap \(call)")
                #expect(reply.status == 200, "\(agent): \(reply.body)")
            }
        }
        let counted = try await eventually(until: { $0 == 8 }) { try teamRequests(bed, "fleet") }
        #expect(counted == 8, "the aggregator counted \(counted) of the 8 requests")

        // The cap goes in as `tollgate budget set` sends it (PUT /v1/budgets/{id}), straight
        // from this process, so the time measured is the fleet's and not a CLI's start-up.
        // Every host probes without pause from just before the PUT until it refuses.
        let cap = Budget(id: "fleet-cap", selector: try BudgetSelector(parsing: "*"), unit: .requests, limit: 3, period: .day,
                         owner: "ops@example.com")
        var put = URLRequest(url: bed.apiURL.appendingPathComponent("v1/budgets/fleet-cap"))
        put.httpMethod = "PUT"
        put.httpBody = try JSONEncoder().encode(cap)
        put.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let token = try String(contentsOfFile: bed.apiTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        put.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let capRequest = put
        let started = ContinuousClock.now
        let refusedAfter = try await withThrowingTaskGroup(of: (String, Duration?, Int).self) { group in
            group.addTask {
                let (body, response) = try await URLSession.shared.data(for: capRequest)
                #expect([200, 201].contains((response as? HTTPURLResponse)?.statusCode ?? 0), "\(String(decoding: body, as: UTF8.self))")
                return ("put", started.duration(to: .now), 0)
            }
            for agent in bed.agents {
                group.addTask {
                    var admitted = 0
                    while started.duration(to: .now) < .seconds(5) {
                        let reply = try await chat(bed, agent, team: "fleet", prompt: "\(agent) probe \(admitted)")
                        if reply.status == 429 {
                            #expect(reply.headers["x-tollgate-budget"] == "fleet-cap", "\(reply.headers)")
                            return (agent, started.duration(to: .now), admitted)
                        }
                        #expect(reply.status == 200, "\(agent): \(reply.body)")
                        admitted += 1
                    }
                    return (agent, nil, admitted)
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = ($1.1, $1.2) }
        }
        for agent in bed.agents {
            let (after, admitted) = try #require(refusedAfter[agent])
            print("fleet: \(agent) refused \(after.map { "\($0)" } ?? "never") after the cap's PUT began (it returned after \(refusedAfter["put"]?.0.map { "\($0)" } ?? "?"); \(admitted) requests admitted meanwhile)")
            // The cap is set when the PUT returns (the aggregator recounts the window first).
            let set = refusedAfter["put"]?.0 ?? .zero
            #expect(after != nil && after! - set < .seconds(1),
                    "\(agent) did not enforce the cap within 1 s of it being set: \(after.map { "\($0 - set)" } ?? "never in 5 s")\n\(bed.log(agent))")
        }
        let list = try budget(bed, ["list"])
        #expect(list.contains("fleet-cap") && list.contains("BLOCKED"), "\(list)")
    }

    // MARK: No loopback shortcuts

    /// Every cross-host endpoint names another host's address, every component binds its own
    /// host's address, both channels of every agent are connected across the fleet network,
    /// and a loopback shortcut could not work: each host's 127.0.0.1 is its own.
    @Test func noComponentIsReachedThroughLoopbackAcrossHosts() async throws {
        let bed = try FleetBed(agents: 4)
        defer { bed.shutdown() }
        try await bed.start()

        func isLoopback(_ text: String) -> Bool { ["127.", "localhost", "::1", "0.0.0.0"].contains { text.contains($0) } }
        let aggregator = try AggregatorConfig(file: bed.host("agg") + "/etc/tollgate/tollgate.yaml")
        for endpoint in [aggregator.usageListen, aggregator.quotaListen, aggregator.apiListen.description] {
            #expect(endpoint.contains(FleetBed.aggregatorAddress), "the aggregator binds \(endpoint), not its host's address")
        }
        #expect(aggregator.quotaListen == "tcp://\(FleetBed.aggregatorAddress):7602", "quota_listen follows usage_listen")
        for agent in bed.agents {
            let config = try AgentConfig(file: bed.agentConfigPath(agent))
            #expect(config.quotaEndpoint == nil, "the README's fleet config names no quota endpoint")
            #expect(config.aggregatorEndpoint == "tcp://\(FleetBed.aggregatorAddress):7600")
            #expect(config.resolvedQuotaEndpoint == "tcp://\(FleetBed.aggregatorAddress):7602")
            for upstream in [config.upstreams.openai, config.upstreams.anthropic, config.upstreams.gemini] {
                #expect(upstream.host == FleetBed.mockAddress && !isLoopback(upstream.host), "\(agent) reaches the provider at \(upstream.host)")
            }
        }

        // What is bound and connected, as the kernel of each host sees it.
        let listening = try bed.shell(on: "agg", ["ss", "-Hltn"])
        for port in [7600, 7601, 7602] {
            #expect(listening.contains("\(FleetBed.aggregatorAddress):\(port)"), "nothing listens on \(FleetBed.aggregatorAddress):\(port):\n\(listening)")
        }
        #expect(!listening.contains("127.0.0.1"), "the aggregator listens on its loopback:\n\(listening)")
        #expect(try bed.shell(on: "mock", ["ss", "-Hltn"]).contains("\(FleetBed.mockAddress):\(FleetBed.mockPort)"))
        for agent in bed.agents {
            let connected = try await eventually(until: { $0.contains(":7600") && $0.contains(":7602") }) {
                try bed.shell(on: agent, ["ss", "-Htn", "state", "established", "dst", FleetBed.aggregatorAddress])
            }
            #expect(connected.contains("\(FleetBed.aggregatorAddress):7600"), "\(agent) ships usage elsewhere:\n\(connected)")
            #expect(connected.contains("\(FleetBed.aggregatorAddress):7602"), "\(agent) has no quota channel to the aggregator:\n\(connected)")
            // Each host's loopback is its own: nothing of the aggregator's or the mock's is there.
            for port in [7600, 7601, 7602, FleetBed.mockPort] {
                await #expect(throws: (any Error).self, "\(agent) reached 127.0.0.1:\(port)") {
                    try await bed.agentRequest(agent, port: port, path: "/healthz")
                }
            }
            let reply = try await chat(bed, agent, team: "wire", prompt: "through \(agent)")
            #expect(reply.status == 200, "\(agent): \(reply.body)")
        }
        let counted = try await eventually(until: { $0 == Int64(bed.agents.count) }) { try teamRequests(bed, "wire") }
        #expect(counted == Int64(bed.agents.count), "every host's request reached the aggregator")

        // On the same bed: a policy set and removed on the aggregator reaches every host (FleetBedTests+Policy.swift).
        try await expectAPolicyChangeReachesEveryHostWithinOneSecond(bed)
    }

    // MARK: A partitioned host

    /// One host loses the fleet network (its veth down, like a pulled cable) for
    /// `partitionSeconds`. It keeps serving its clients through the provider, enforces the
    /// last budget state it heard plus its own spend since, and spools; when the link
    /// returns, its usage lands, exactly once.
    @Test func aPartitionedHostKeepsServingEnforcesItsLastStateAndItsUsageLandsOnceHealed() async throws {
        let bed = try FleetBed(agents: 4)
        defer { bed.shutdown() }
        // Enforcement from the last pushed state, without leases: 4 quick requests on a
        // 10-request budget would lease it, and a partitioned host then admits only its slice
        // (that case is `leasesBoundTheFleetsOvershootWhereLeaseFreeEnforcementOvershoots`).
        try bed.configureLeases(on: false)
        try await bed.start()
        let cut = "a1"

        _ = try budget(bed, ["set", "island", "--selector", "team=island", "--limit", "10requests", "--window", "day"])
        for agent in bed.agents {
            let held = try await eventually(seconds: 10, until: { $0 == 1 }) { try await agentMetric(bed, agent, "tollgate_agent_quota_budgets") }
            #expect(held == 1, "\(agent) never received the budget")
        }
        for call in 0..<4 {
            let reply = try await chat(bed, cut, team: "island", prompt: "before the partition \(call)")
            #expect(reply.status == 200, "\(reply.body)")
        }
        let before = try await eventually(until: { $0 == 4 }) { try teamRequests(bed, "island") }
        #expect(before == 4)
        // Past two snapshots (2 s apart), the state the host holds includes those 4.
        try await Task.sleep(for: .seconds(4.5))

        try bed.partition(cut)
        let partitioned = ContinuousClock.now
        // Keeps serving: the provider is on the other network.
        let traffic = try await bed.runAsync(on: cut, "tollgate-mock", trafficArguments(requests: 60))
        #expect(traffic.status == 0, "\(cut) stopped serving while partitioned:\n\(traffic.output)")
        // Its last state (4 of 10 spent) plus its own spend since: exactly 6 more, then refusals.
        var statuses: [Int] = []
        for call in 0..<8 {
            statuses.append(try await chat(bed, cut, team: "island", prompt: "partitioned \(call)").status)
        }
        #expect(statuses == Array(repeating: 200, count: 6) + [429, 429], "\(statuses)")
        // The rest of the fleet is untouched and its usage keeps landing.
        let others = try await bed.runAsync(on: "a2", "tollgate-mock", trafficArguments(requests: 40))
        #expect(others.status == 0, "\(others.output)")
        // Spooled, not delivered: the aggregator has not seen the partitioned host's spend.
        let unacked = try await agentMetric(bed, cut, "tollgate_agent_unacked_batches")
        #expect(unacked > 0, "the partitioned host holds no unacknowledged batches")
        #expect(try teamRequests(bed, "island") == 4, "usage crossed the partition")

        let remaining = Duration.seconds(Self.partitionSeconds) - partitioned.duration(to: .now)
        if remaining > .zero { try await Task.sleep(for: remaining) }
        // Still enforcing, after the quota state went stale (on_stale: allow keeps the last state).
        #expect(try await chat(bed, cut, team: "island", prompt: "late in the partition").status == 429)
        try bed.heal(cut)
        let healed = ContinuousClock.now
        print("fleet: \(cut) partitioned for \(partitioned.duration(to: healed))")

        try await expectExactTotals(bed, seconds: 60)
        print("fleet: \(cut)'s usage landed exactly \(healed.duration(to: .now)) after the link returned")
        #expect(try teamRequests(bed, "island") == 10)
        let drained = try await eventually(seconds: 30, until: { $0 == 0 }) { try await agentMetric(bed, cut, "tollgate_agent_unacked_batches") }
        #expect(drained == 0, "the healed host still holds unacknowledged batches")

        // And it hears budgets again: a cap set now, already exceeded elsewhere, reaches it
        // once its quota channel is back (the subscriber reconnects after 10 s of silence).
        for call in 0..<2 {
            #expect(try await chat(bed, "a2", team: "healed", prompt: "elsewhere \(call)").status == 200)
        }
        _ = try await eventually(until: { $0 == 2 }) { try teamRequests(bed, "healed") }
        _ = try budget(bed, ["set", "after-heal", "--selector", "team=healed", "--limit", "1requests", "--window", "day"])
        let capSet = ContinuousClock.now
        let status = try await eventually(seconds: 20, until: { $0 == 429 }) {
            try await chat(bed, cut, team: "healed", prompt: "after the heal").status
        }
        #expect(status == 429, "\(cut) never heard a cap set after the link returned\n\(bed.log(cut))")
        print("fleet: \(cut) enforced a cap set after the heal within \(capSet.duration(to: .now)) (\(healed.duration(to: .now)) after the link returned)")
    }

    // MARK: Restart and join

    /// The aggregator dies (`kill -9`) and comes back while every host sends traffic: totals
    /// stay exact. Then a host joins the fleet and enforces an existing cap within a second of
    /// its proxy answering.
    @Test func theAggregatorRestartsMidTrafficAndANewHostEnforcesAnExistingCapWithinOneSecond() async throws {
        let bed = try FleetBed(agents: 4)
        defer { bed.shutdown() }
        // The joining host is provisioned now (its key admitted, read within 5 s) and started later.
        let joining = try bed.addAgentHost()
        let admitted = ContinuousClock.now
        let running = bed.agents.filter { $0 != joining }
        try await bed.start(except: [joining])

        let trafficStarted = ContinuousClock.now
        let (trafficEnds, restartedAt) = try await withThrowingTaskGroup(of: (Duration?, Duration?).self) { group in
            for agent in running {
                group.addTask {
                    let traffic = try await bed.runAsync(on: agent, "tollgate-mock", trafficArguments(requests: 300))
                    #expect(traffic.status == 0, "\(agent):\n\(traffic.output)")
                    return (trafficStarted.duration(to: .now), nil)
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(700))
                let killed = trafficStarted.duration(to: .now)
                try await bed.restartAggregator(signal: SIGKILL)
                return (nil, killed)
            }
            return try await group.reduce(into: ([Duration](), Duration?.none)) { result, next in
                if let end = next.0 { result.0.append(end) }
                if let killed = next.1 { result.1 = killed }
            }
        }
        let killedAt = try #require(restartedAt)
        print("fleet: aggregator killed \(killedAt) into traffic that ran \(trafficEnds.min()!) to \(trafficEnds.max()!)")
        #expect(trafficEnds.allSatisfy { $0 > killedAt }, "the aggregator was killed after some host's traffic had ended: \(trafficEnds)")
        try await expectExactTotals(bed, seconds: 30)

        // An existing cap, already exceeded.
        for call in 0..<2 {
            #expect(try await chat(bed, "a1", team: "join", prompt: "before the cap \(call)").status == 200)
        }
        _ = try await eventually(until: { $0 == 2 }) { try teamRequests(bed, "join") }
        _ = try budget(bed, ["set", "join-cap", "--selector", "team=join", "--limit", "1requests", "--window", "day"])
        let refused = try await eventually(seconds: 5, until: { $0 == 429 }) { try await chat(bed, "a1", team: "join", prompt: "after the cap").status }
        #expect(refused == 429)

        let wait = Duration.seconds(6) - admitted.duration(to: .now)
        if wait > .zero { try await Task.sleep(for: wait) }
        let launched = ContinuousClock.now
        try bed.launchAgent(joining)
        var answered: ContinuousClock.Instant?
        var admittedBeforeRefusal = 0
        var enforcedAfter: Duration?
        while launched.duration(to: .now) < .seconds(15) {
            guard let reply = try? await chat(bed, joining, team: "join", prompt: "joining \(admittedBeforeRefusal)") else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            answered = answered ?? ContinuousClock.now
            if reply.status == 429 {
                enforcedAfter = answered!.duration(to: .now)
                break
            }
            #expect(reply.status == 200, "\(reply.body)")
            admittedBeforeRefusal += 1
        }
        print("fleet: joining host \(joining) answered \(answered.map { "\(launched.duration(to: $0))" } ?? "never") after launch, enforced the cap \(enforcedAfter.map { "\($0)" } ?? "never") after that (\(admittedBeforeRefusal) requests admitted first)")
        #expect(enforcedAfter != nil && enforcedAfter! < .seconds(1), "\(joining) did not enforce the existing cap within 1 s of serving\n\(bed.log(joining))")
    }

    // MARK: Helpers

    func trafficArguments(requests: Int) -> [String] {
        ["traffic", "--agent-url", "http://127.0.0.1:\(FleetBed.agentProxyPort)", "--requests", String(requests), "--keys", "3",
         "--models", "gpt-4o,gpt-4o-mini", "--concurrency", "4"]
    }

    /// One chat completion from inside `agent`'s host through its proxy.
    func chat(_ bed: FleetBed, _ agent: String, team: String, prompt: String, model: String = "gpt-4o-mini",
              maxTokens: Int = 50) async throws -> NamespaceHTTP.Reply {
        try await bed.agentRequest(agent, method: "POST", path: "/openai/v1/chat/completions", headers: [
            "Content-Type": "application/json", "Authorization": "Bearer sk-fleet-test-000000000001", "X-Tollgate-Team": team,
        ], body: #"{"model":"\#(model)","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"\#(prompt)"}]}"#)
    }

    func budget(_ bed: FleetBed, _ arguments: [String]) throws -> String {
        try bed.cli(["budget"] + arguments + ["--token-file", bed.apiTokenFile])
    }

    /// Requests the aggregator has counted for a team (refusals are counted apart).
    func teamRequests(_ bed: FleetBed, _ team: String) throws -> Int64 {
        let json = try bed.cli(["usage", "--since", "1h", "--by", "team", "--format", "json"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
        return Int64(rows.first { $0["team"] as? String == team }?["requests"] as? Int ?? 0)
    }

    func agentMetric(_ bed: FleetBed, _ agent: String, _ name: String) async throws -> Int64 {
        let reply = try await bed.agentRequest(agent, port: FleetBed.agentAdminPort, path: "/metrics")
        // Gauges are written as floating point ("3.0").
        return Int64(MetricsText(reply.body)[name] ?? 0)
    }

    /// The aggregator's totals per key and model equal what the mock served, exactly.
    func expectExactTotals(_ bed: FleetBed, seconds: Double) async throws {
        let orgSecret = try AgentConfig(file: bed.agentConfigPath("a1")).orgSecret
        let ledger = try await fetchLedger(mockURL: bed.mockURL)
        let expected = GroundTruth.expected(from: ledger, keys: KeyIdentifier(orgSecret: orgSecret), prices: DefaultPriceCatalog.load())
        let differences = try await eventually(seconds: seconds, until: { $0.isEmpty }) {
            let json = try bed.cli(["usage", "--since", "1h", "--by", "key,model", "--format", "json"])
            // Groups of refusals only (no tokens, no requests served) are not in the ledger.
            let actual = try GroundTruth.actual(fromUsageJSON: Data(json.utf8)).filter { $0.value != GroundTruth.Totals() }
            return GroundTruth.differences(expected: expected, actual: actual)
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))\naggregator log:\n\(bed.log("agg"))")
    }
}
