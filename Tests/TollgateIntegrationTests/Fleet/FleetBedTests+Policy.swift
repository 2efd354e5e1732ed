import Foundation
import Testing
import TollgateMockProvider
import TollgateProviders

/// A spend policy set on the aggregator reaches every host of the fleet (issue #20): run on
/// the bed `noComponentIsReachedThroughLoopbackAcrossHosts` already started, so the suite,
/// which runs alone in CI and is slow to start, starts no bed for it.
extension FleetBedTests {
    /// Every host probes gpt-4o from the moment `tollgate policy set` returns until a reply
    /// comes from gpt-4o-mini, which must happen within a second on each; after `policy rm`,
    /// likewise until a reply comes from gpt-4o again. The mock's ledger, per host's key,
    /// must hold exactly the requests each host saw served by each model: routed calls
    /// really reached the provider as the target model, and nothing else did.
    func expectAPolicyChangeReachesEveryHostWithinOneSecond(_ bed: FleetBed) async throws {
        let catalog = DefaultPriceCatalog.load()
        @Sendable func key(_ agent: String) -> String { "sk-fleet-policy-\(agent)-00000001" }
        /// One gpt-4o call from `agent`'s host; the canonical model that answered.
        @Sendable func call(_ agent: String) async throws -> String {
            let reply = try await bed.agentRequest(agent, method: "POST", path: "/openai/v1/chat/completions", headers: [
                "Content-Type": "application/json", "Authorization": "Bearer \(key(agent))", "X-Tollgate-Team": "policy",
            ], body: #"{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"route me"}]}"#)
            guard reply.status == 200, let body = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
                  let model = body["model"] as? String else {
                throw ClusterError("\(agent): \(reply.status) \(reply.body)")
            }
            return catalog.canonicalModel(model)
        }
        /// Probes every host until one reply comes from `model`; each host's time to it and what it was served.
        func probeEveryHost(until model: String, after started: ContinuousClock.Instant) async throws -> [String: (Duration?, [String: Int])] {
            try await withThrowingTaskGroup(of: (String, Duration?, [String: Int]).self) { group in
                for agent in bed.agents {
                    group.addTask {
                        var served: [String: Int] = [:]
                        while started.duration(to: .now) < .seconds(5) {
                            let answered = try await call(agent)
                            served[answered, default: 0] += 1
                            if answered == model { return (agent, started.duration(to: .now), served) }
                        }
                        return (agent, nil, served)
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = ($1.1, $1.2) }
            }
        }

        var servedPerHost: [String: [String: Int]] = [:]
        for agent in bed.agents {
            #expect(try await call(agent) == "gpt-4o", "\(agent) routed before any policy")
            servedPerHost[agent, default: [:]]["gpt-4o", default: 0] += 1
        }
        _ = try bed.cli(["policy", "set", "fleet-route", "--kind", "route", "--scope", "team=policy", "--models", "gpt-4o",
                         "--to", "gpt-4o-mini", "--owner", "ops@example.com", "--token-file", bed.apiTokenFile])
        let set = ContinuousClock.now
        let routed = try await probeEveryHost(until: "gpt-4o-mini", after: set)
        _ = try bed.cli(["policy", "rm", "fleet-route", "--token-file", bed.apiTokenFile])
        let removed = ContinuousClock.now
        let unrouted = try await probeEveryHost(until: "gpt-4o", after: removed)

        for agent in bed.agents {
            let (routedAfter, servedWhileSet) = try #require(routed[agent])
            let (unroutedAfter, servedAfterRemoval) = try #require(unrouted[agent])
            print("fleet: \(agent) routed \(routedAfter.map { "\($0)" } ?? "never") after `policy set` returned, unrouted \(unroutedAfter.map { "\($0)" } ?? "never") after `policy rm`")
            #expect(routedAfter != nil && routedAfter! < .seconds(1), "\(agent) did not route within 1 s of the policy being set\n\(bed.log(agent))")
            #expect(unroutedAfter != nil && unroutedAfter! < .seconds(1), "\(agent) still routed 1 s after the policy was removed\n\(bed.log(agent))")
            servedPerHost[agent, default: [:]].merge(servedWhileSet, uniquingKeysWith: +)
            servedPerHost[agent, default: [:]].merge(servedAfterRemoval, uniquingKeysWith: +)
        }
        // Ground truth: what the provider served each host's key, by model.
        let ledger = try await fetchLedger(mockURL: bed.mockURL)
        for agent in bed.agents {
            var billed: [String: Int] = [:]
            for entry in ledger.entries where entry.apiKey == key(agent) {
                billed[catalog.canonicalModel(entry.model), default: 0] += entry.requests
            }
            #expect(billed == servedPerHost[agent], "\(agent): the mock served \(billed), the client saw \(servedPerHost[agent] ?? [:])")
        }
    }
}
