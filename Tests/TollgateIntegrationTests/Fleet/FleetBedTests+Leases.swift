import Foundation
import NIOConcurrencyHelpers
import Testing
import TollgateAggregator
import TollgateCore
import TollgateProviders
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Leases near the limit (issue #15 item 6) on the fleet bed: 8 agent hosts × 8 concurrent
/// clients spend one USD budget to its limit, once with leases off and once on, in the same
/// run; the overshoot of each is what the aggregator counted past the limit once every host's
/// usage has landed. In the leased run one host is partitioned while it holds a slice: it may
/// spend only that slice, and nothing once the slice lapses.
extension FleetBedTests {
    /// Seconds each run keeps its clients sending; `TOLLGATE_LEASE_PHASE_SECONDS` lengthens it
    /// (`scripts/bench-overshoot.sh`).
    static let leasePhaseSeconds: Double = ProcessInfo.processInfo.environment["TOLLGATE_LEASE_PHASE_SECONDS"].flatMap(Double.init) ?? 10
    static let clientsPerHost = 8
    static let leaseTTL = Duration.seconds(5)

    @Test func leasesBoundTheFleetsOvershootWhereLeaseFreeEnforcementOvershoots() async throws {
        let bed = try FleetBed(agents: 8)
        defer { bed.shutdown() }
        try bed.configureLeases(on: false)
        try await bed.start()

        // The burn rate of this machine, so the limit takes a few seconds to reach.
        let warmup = try await drive(bed, team: "lease-warmup", for: .seconds(2))
        let rate = Double(warmup.cost) / 2
        let limit = max(Int64(rate * Self.leasePhaseSeconds * 0.5), 50_000_000)
        print("lease: warm-up \(warmup.admitted) requests, \(BudgetUnit.usd.format(warmup.cost)) in 2 s (\(BudgetUnit.usd.format(Int64(rate)))/s); limit \(BudgetUnit.usd.format(limit))")

        let off = try await overshootRun(bed, id: "lease-off", limit: limit)
        try bed.configureLeases(on: true)
        try await bed.restartAggregator(signal: SIGTERM)
        // A starting aggregator grants no slice for one TTL (slices of its previous run lapse first).
        try await Task.sleep(for: Self.leaseTTL)
        let on = try await overshootRun(bed, id: "lease-on", limit: limit, partition: "a8")

        print("""
        lease: overshoot on one USD budget, 8 hosts × \(Self.clientsPerHost) clients, same run
        lease: | leases | limit | spent | overshoot | published bound | admitted | refused |
        lease: | off | \(off.row) |
        lease: | on  | \(on.row) |
        """)
        // One line for scripts/bench-overshoot.sh, amounts in nanodollars.
        print("lease-figures: limit=\(limit) off_overshoot=\(off.spent - limit) off_bound=\(off.bound) on_overshoot=\(on.spent - limit) on_bound=\(on.bound) off_admitted=\(off.admitted) on_admitted=\(on.admitted) rate=\(Int64(rate))")
        #expect(on.sawLeased, "the budget was never leased")
        #expect(on.spent - limit <= on.bound, "leased overshoot \(on.spent - limit) is above its published bound \(on.bound)")
        #expect(off.bound >= 10 * max(1, on.bound), "the lease-free bound \(off.bound) is not 10× the leased one \(on.bound)")
        let partitioned = try #require(on.partition)
        print("lease: partitioned a8 held a slice of \(BudgetUnit.usd.format(partitioned.slice)), admitted \(BudgetUnit.usd.format(partitioned.spent)) in \(partitioned.admitted) requests while cut off, \(partitioned.admittedAfterLapse) after its slice lapsed")
        #expect(partitioned.spent <= partitioned.slice, "a8 admitted \(partitioned.spent) while partitioned, more than its slice \(partitioned.slice)")
        #expect(partitioned.admittedAfterLapse == 0, "a8 admitted \(partitioned.admittedAfterLapse) requests after its slice lapsed")
    }

    struct OvershootRun {
        var limit: Int64
        var spent: Int64
        /// The largest overshoot bound the API published during the run (while leased, for a leased run).
        var bound: Int64
        var sawLeased: Bool
        var admitted: Int
        var refused: Int
        var partition: PartitionOutcome?

        var row: String {
            "\(BudgetUnit.usd.format(limit)) | \(BudgetUnit.usd.format(spent)) | \(BudgetUnit.usd.format(spent - limit)) | \(BudgetUnit.usd.format(bound)) | \(admitted) | \(refused)"
        }
    }

    struct PartitionOutcome {
        var slice: Int64
        var spent: Int64
        var admitted: Int
        var admittedAfterLapse: Int
    }

    /// What the clients of a drive saw, summed.
    struct Tally: Sendable {
        var admitted = 0
        var refused = 0
        var cost: Int64 = 0
    }

    /// Sets the budget, sends from every host until the run ends, waits until every host's usage
    /// has landed, and reads what the aggregator counted.
    func overshootRun(_ bed: FleetBed, id: String, limit: Int64, partition host: String? = nil) async throws -> OvershootRun {
        let budget = Budget(id: id, selector: try BudgetSelector(parsing: "team=\(id)"), unit: .usd, limit: limit, period: .day, owner: "ops@example.com")
        try await putBudget(bed, budget)
        let started = ContinuousClock.now
        let phase = Duration.seconds(Self.leasePhaseSeconds)
        let published = NIOLockedValueBox((bound: Int64(0), leasedBound: Int64(0), leasedAt: ContinuousClock.Instant?.none))
        let cut = NIOLockedValueBox((at: ContinuousClock.Instant?.none, slice: Int64(0)))
        let partitionTally = NIOLockedValueBox((spent: Int64(0), admitted: 0, afterLapse: 0))

        let tally = try await withThrowingTaskGroup(of: Tally.self) { group in
            // The API's view, every 100 ms: the published bound, and when the budget became leased.
            group.addTask {
                while started.duration(to: .now) < phase {
                    if let status = try? await budgetStatus(bed, id) {
                        published.withLockedValue { value in
                            if status.leased {
                                value.leasedAt = value.leasedAt ?? .now
                                value.leasedBound = max(value.leasedBound, status.overshootBound ?? 0)
                            } else {
                                value.bound = max(value.bound, status.overshootBound ?? 0)
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return Tally()
            }
            if let host {
                // A second into the lease the host's fleet link goes down, for the slice's TTL and then some.
                group.addTask {
                    while published.withLockedValue({ $0.leasedAt }) == nil, started.duration(to: .now) < phase {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    guard published.withLockedValue({ $0.leasedAt }) != nil else { return Tally() }
                    try await Task.sleep(for: .seconds(1))
                    try bed.partition(host)
                    try await Task.sleep(for: .milliseconds(300))
                    // No grant can reach it from here on: this is all it may spend.
                    let slice = try await agentMetric(bed, host, "tollgate_agent_lease_granted{budget=\"\(id)\"}")
                    cut.withLockedValue { $0 = (ContinuousClock.now - .milliseconds(300), slice) }
                    try await Task.sleep(for: Self.leaseTTL + .seconds(2))
                    try bed.heal(host)
                    cut.withLockedValue { $0.at = nil }
                    return Tally()
                }
            }
            for agent in bed.agents {
                for client in 0..<Self.clientsPerHost {
                    group.addTask {
                        var tally = Tally()
                        var sent = 0
                        while started.duration(to: .now) < phase || (host != nil && cut.withLockedValue({ $0.at }) != nil) {
                            let reply = try await chat(bed, agent, team: id, prompt: "\(agent) client \(client) request \(sent)", model: "gpt-4o", maxTokens: 200)
                            sent += 1
                            let cutAt = agent == host ? cut.withLockedValue({ $0.at }) : nil
                            if reply.status == 200 {
                                let cost = Self.cost(ofReply: reply.body)
                                tally.admitted += 1
                                tally.cost += cost
                                if let cutAt {
                                    let lapsed = cutAt.duration(to: .now) > Self.leaseTTL + .milliseconds(500)
                                    partitionTally.withLockedValue { value in
                                        value.spent += cost
                                        value.admitted += 1
                                        if lapsed { value.afterLapse += 1 }
                                    }
                                }
                            } else {
                                #expect(reply.status == 429, "\(agent): \(reply.status) \(reply.body)")
                                tally.refused += 1
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                        return tally
                    }
                }
            }
            return try await group.reduce(into: Tally()) { total, next in
                total.admitted += next.admitted
                total.refused += next.refused
                total.cost += next.cost
            }
        }
        // Every host's usage lands (the partitioned one's once its link is back).
        let spent = try await eventually(seconds: 30, until: { $0.stable }) { () -> (spent: Int64, stable: Bool) in
            let before = try await budgetStatus(bed, id).spent
            try await Task.sleep(for: .milliseconds(1_500))
            var unacked: Int64 = 0
            for agent in bed.agents { unacked += try await agentMetric(bed, agent, "tollgate_agent_unacked_batches") }
            let after = try await budgetStatus(bed, id).spent
            return (after, after == before && unacked == 0)
        }.spent
        let view = published.withLockedValue { $0 }
        let partitionOutcome: PartitionOutcome? = host.map { _ in
            let counted = partitionTally.withLockedValue { $0 }
            return PartitionOutcome(slice: cut.withLockedValue { $0.slice }, spent: counted.spent, admitted: counted.admitted,
                                    admittedAfterLapse: counted.afterLapse)
        }
        return OvershootRun(limit: limit, spent: spent, bound: view.leasedAt != nil ? view.leasedBound : view.bound,
                            sawLeased: view.leasedAt != nil, admitted: tally.admitted, refused: tally.refused, partition: partitionOutcome)
    }

    /// Every host's clients send for `duration`; what they were billed.
    func drive(_ bed: FleetBed, team: String, for duration: Duration) async throws -> Tally {
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: Tally.self) { group in
            for agent in bed.agents {
                for client in 0..<Self.clientsPerHost {
                    group.addTask {
                        var tally = Tally()
                        while started.duration(to: .now) < duration {
                            let reply = try await chat(bed, agent, team: team, prompt: "\(agent) warm-up \(client) \(tally.admitted)", model: "gpt-4o", maxTokens: 200)
                            #expect(reply.status == 200, "\(agent): \(reply.body)")
                            tally.admitted += 1
                            tally.cost += Self.cost(ofReply: reply.body)
                        }
                        return tally
                    }
                }
            }
            return try await group.reduce(into: Tally()) { total, next in
                total.admitted += next.admitted
                total.cost += next.cost
            }
        }
    }

    /// What the provider billed for one chat completion, from the usage in its body, at the
    /// catalog's gpt-4o prices (what the agent meters).
    static func cost(ofReply body: String) -> Int64 {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let usage = object["usage"] as? [String: Any] else { return 0 }
        let input = Int64(usage["prompt_tokens"] as? Int ?? 0)
        let output = Int64(usage["completion_tokens"] as? Int ?? 0)
        guard case .priced(_, let price) = DefaultPriceCatalog.load().lookup("gpt-4o") else { return 0 }
        return price.cost(of: TokenUsage(input: input, output: output)).value
    }

    func putBudget(_ bed: FleetBed, _ budget: Budget) async throws {
        var put = URLRequest(url: bed.apiURL.appendingPathComponent("v1/budgets/\(budget.id)"))
        put.httpMethod = "PUT"
        put.httpBody = try JSONEncoder().encode(budget)
        put.setValue("application/json", forHTTPHeaderField: "Content-Type")
        put.setValue("Bearer \(try apiToken(bed))", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: put)
        #expect([200, 201].contains((response as? HTTPURLResponse)?.statusCode ?? 0), "\(String(decoding: body, as: UTF8.self))")
    }

    func budgetStatus(_ bed: FleetBed, _ id: String) async throws -> BudgetStatus {
        var get = URLRequest(url: bed.apiURL.appendingPathComponent("v1/budgets/\(id)"))
        get.setValue("Bearer \(try apiToken(bed))", forHTTPHeaderField: "Authorization")
        let (body, _) = try await URLSession.shared.data(for: get)
        return try JSONDecoder().decode(BudgetView.self, from: body).status
    }

    func apiToken(_ bed: FleetBed) throws -> String {
        try String(contentsOfFile: bed.apiTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
