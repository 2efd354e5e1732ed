import Foundation
import Testing
import TollgateCore
import TollgateMockProvider
import TollgateProviders
import TollgateWire
@testable import TollgateAggregator

/// The reconciler against the mock's admin endpoints over real HTTP: real traffic to the
/// mock fills its ledger (and its daily reports); the store is seeded from that ledger, as
/// an exact meter would have filled it.
@Suite(.serialized) struct ReconcilerTests {
    static let orgSecret = Array("reconcile-test-org-secret".utf8)
    static let keys = ["sk-reconcile-test-key-0001", "sk-reconcile-test-key-0002"]

    /// A mock with two day buckets a page, traffic from two keys on two OpenAI models and one
    /// Anthropic model, and a store holding exactly what the mock billed, this minute.
    final class Fixture: @unchecked Sendable {
        let mock: MockProviderServer
        let mockURL: URL
        let directory: String
        let store: UsageStore
        let metrics = AggregatorMetrics()
        let now = Date()

        init() async throws {
            mock = MockProviderServer(adminReports: MockAdminReports(maxBucketsPerPage: 2))
            let port = try mock.start()
            mockURL = URL(string: "http://127.0.0.1:\(port)")!
            let plan = TrafficPlan(apiKeys: ReconcilerTests.keys, models: ["gpt-4o", "gpt-4o-mini"], requests: 24, concurrency: 4,
                                   formats: [.openaiChat, .openaiChatStreamWithUsage, .openaiResponses, .anthropicMessages])
            let report = try await runTraffic(plan: plan, baseURL: mockURL)
            #expect(report.failures == 0)
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-reconcile-\(UUID().uuidString)").path
            store = try UsageStore(directory: directory)
            try seed(from: mock.ledger)
        }

        func seed(from ledger: LedgerSnapshot) throws {
            let identifier = KeyIdentifier(orgSecret: ReconcilerTests.orgSecret)
            let prices = DefaultPriceCatalog.load()
            let minute = Int64(now.timeIntervalSince1970) / 60
            var cells: [Cell] = []
            for entry in ledger.entries {
                var dimensions = Dimensions()
                dimensions.keyID = identifier.keyID(for: entry.apiKey)
                dimensions.keyHint = KeyIdentifier.hint(for: entry.apiKey, provider: entry.provider)
                dimensions.provider = entry.provider
                dimensions.model = entry.model
                let tokens = TokenUsage(input: Int64(entry.promptTokens), cachedInput: Int64(entry.cachedTokens), cacheWrite: Int64(entry.cacheWriteTokens),
                                        output: Int64(entry.completionTokens), reasoning: Int64(entry.reasoningTokens))
                var counters = UsageCounters()
                counters.requests = Int64(entry.requests)
                counters.tokens = tokens
                if case .priced(_, let price) = prices.lookup(entry.model) { counters.cost = price.cost(of: tokens) }
                cells.append(Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters))
            }
            #expect(try store.apply(UsageBatchMessage(agentID: "seed", seq: 1, floorSeq: 0, cells: cells)) == .applied)
        }

        func reconciler(openAIKey: String = MockAdminReports.defaultOpenAIAdminKey, keyMap: [String: String] = [:]) -> Reconciler {
            let settings = ReconcileSettings(sources: [
                AdminSource(provider: .openai, baseURL: mockURL, adminKey: AdminKey(openAIKey), keyMap: keyMap),
                AdminSource(provider: .anthropic, baseURL: mockURL, adminKey: AdminKey(MockAdminReports.defaultAnthropicAdminKey)),
            ])
            return Reconciler(settings: settings, store: store, metrics: metrics)
        }

        /// Five whole UTC days ending with today: three pages of two buckets per report.
        func run(_ reconciler: Reconciler) throws -> ReconcileReport {
            let seconds = Int64(now.timeIntervalSince1970)
            return try reconciler.run(since: seconds - 4 * 86_400, until: seconds)
        }

        deinit {
            mock.stop()
            store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func whatTheMockBilledAndWhatWasMeteredAgreeAcrossEveryPage() async throws {
        let fixture = try await Fixture()
        let report = try fixture.run(fixture.reconciler())
        #expect(report.providers.map(\.outcome) == ["match", "match"], "\(report.providers)")
        // Usage completions + embeddings + costs at OpenAI, usage + costs at Anthropic: 3 pages each.
        #expect(report.providers.map(\.pages) == [9, 6])
        #expect(report.rows.allSatisfy { $0.status == .match }, "\(report.rows.filter { $0.status != .match })")
        let models = Set(report.rows.map(\.model))
        #expect(models.isSuperset(of: ["gpt-4o", "gpt-4o-mini"]) && models.contains { $0.hasPrefix("claude-") }, "\(models)")
        #expect(report.rows.allSatisfy { $0.costDifference == .zero }, "the mock's cost lines add up to the meter's cost exactly")
        #expect(report.rows.allSatisfy { $0.tollgateCost > .zero })
        let metrics = fixture.metrics.exposition()
        #expect(metrics.contains(#"tollgate_reconcile_runs_total{provider="openai",outcome="match"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"tollgate_reconcile_difference_nanodollars{provider="anthropic"} 0"#))
    }

    @Test func aDayTheProviderBilledMoreIsReportedWithTheRightDifference() async throws {
        let fixture = try await Fixture()
        let prices = DefaultPriceCatalog.load()
        // Today: 1,000 output tokens on gpt-4o-mini that the mock claims but never served.
        let extra = TokenUsage(output: 1_000)
        try fixture.mock.adminReports.inject(provider: "openai", apiKey: Self.keys[0], model: "gpt-4o-mini-2024-07-18", tokens: extra, day: fixture.now)
        // Two days ago: a whole Anthropic day Tollgate never saw.
        let earlier = TokenUsage(input: 5_000, output: 2_000)
        try fixture.mock.adminReports.inject(provider: "anthropic", apiKey: Self.keys[1], model: "claude-sonnet-4-5-20250929", tokens: earlier,
                                             requests: 3, day: fixture.now.addingTimeInterval(-2 * 86_400))
        let report = try fixture.run(fixture.reconciler())
        #expect(report.providers.map(\.outcome) == ["differs", "differs"])

        guard case .priced(_, let miniPrice) = prices.lookup("gpt-4o-mini-2024-07-18"),
              case .priced(_, let sonnetPrice) = prices.lookup("claude-sonnet-4-5-20250929") else { Issue.record("no prices"); return }
        let today = try #require(report.rows.first { $0.provider == .openai && $0.model == "gpt-4o-mini" })
        #expect(today.status == .differs)
        #expect(today.costDifference == Nanodollars(-miniPrice.cost(of: extra).value))
        #expect(today.tokenDifference == -1_000)
        #expect(today.reasons.first == "output_tokens \(today.tollgateTokens[.output]!) vs \(today.tollgateTokens[.output]! + 1_000)")

        let missing = try #require(report.rows.first { $0.status == .missingInTollgate })
        #expect(missing.day == Reconciliation.dayString(OpenAIAdminReport.utcDay(Int64(fixture.now.timeIntervalSince1970) - 2 * 86_400)))
        #expect(missing.provider == .anthropic && missing.model == "claude-sonnet-4-5")
        #expect(missing.providerCost == sonnetPrice.cost(of: earlier) && missing.tollgateCost == .zero)
        #expect(missing.providerTokens[.output] == 2_000 && missing.providerTokens[.input] == 5_000)
        #expect(report.rows.filter { $0.status != .match }.count == 2, "every other row still matches")

        let metrics = fixture.metrics.exposition()
        #expect(metrics.contains(#"tollgate_reconcile_runs_total{provider="openai",outcome="differs"} 1"#))
        #expect(metrics.contains(#"tollgate_reconcile_differing_rows{provider="anthropic"} 1"#))
        #expect(metrics.contains(#"tollgate_reconcile_difference_nanodollars{provider="openai"} \#(Double(miniPrice.cost(of: extra).value))"#), "\(metrics)")
    }

    @Test func keysMapToTheirOwnRows() async throws {
        let fixture = try await Fixture()
        let identifier = KeyIdentifier(orgSecret: Self.orgSecret)
        let first = identifier.keyID(for: Self.keys[0])
        // One key by id, the other by its hint's tail ("0002", which only that key has).
        let map = [AdminKeyIDs.openAI(forKey: Self.keys[0]): first, AdminKeyIDs.openAI(forKey: Self.keys[1]): "…0002"]
        let report = try fixture.run(fixture.reconciler(keyMap: map))
        let openAI = report.rows.filter { $0.provider == .openai }
        #expect(openAI.allSatisfy { $0.status == .match }, "\(openAI.filter { $0.status != .match })")
        let gpt4o = openAI.filter { $0.model == "gpt-4o" }
        #expect(gpt4o.map(\.keyMatch) == [first < identifier.keyID(for: Self.keys[1]) ? .mapped : .hint,
                                         first < identifier.keyID(for: Self.keys[1]) ? .hint : .mapped, .allKeys])
        #expect(gpt4o.last?.key == "*" && gpt4o.last?.providerCost != nil && gpt4o.first?.providerCost == nil)
        #expect(gpt4o.contains { $0.key == first && $0.providerKeyIDs == [AdminKeyIDs.openAI(forKey: Self.keys[0])] && $0.keyHint == KeyIdentifier.hint(for: Self.keys[0], provider: "openai") })
        #expect(report.rows.filter { $0.provider == .anthropic }.allSatisfy { $0.keyMatch == .unmapped }, "no Anthropic map: per day and model")
    }

    @Test(arguments: [
        (MockAdminReports.Fault?.none, "sk-admin-wrong", "auth_error", "refused the admin key (HTTP 401"),
        (MockAdminReports.Fault.status(500), MockAdminReports.defaultOpenAIAdminKey, "http_error", "answered HTTP 500"),
        (MockAdminReports.Fault.malformedJSON, MockAdminReports.defaultOpenAIAdminKey, "malformed", "unreadable report"),
    ])
    func providerFailuresAreClearAndCounted(_ fault: MockAdminReports.Fault?, _ key: String, _ outcome: String, _ message: String) async throws {
        let fixture = try await Fixture()
        fixture.mock.adminReports.setFault(fault)
        let report = try fixture.run(fixture.reconciler(openAIKey: key))
        let openAI = try #require(report.providers.first { $0.provider == .openai })
        #expect(openAI.outcome == outcome)
        #expect(openAI.error?.contains(message) == true, "\(openAI.error ?? "")")
        #expect(openAI.error?.contains(key) == false, "the admin key never appears in an error")
        #expect(report.rows.allSatisfy { $0.provider == .anthropic })
        #expect(!report.allMatch)
        #expect(fixture.metrics.exposition().contains(#"tollgate_reconcile_runs_total{provider="openai",outcome="\#(outcome)"} 1"#))
    }

    @Test func theRouteNeedsTheTokenAndCheckedParameters() async throws {
        let fixture = try await Fixture()
        var router = APIRouter(store: fixture.store, metrics: fixture.metrics, token: APIToken("secret-token"), reconciler: fixture.reconciler())
        #expect(router.respond(method: .GET, uri: "/v1/reconcile?since=2d").status == .unauthorized)
        #expect(router.respond(method: .GET, uri: "/v1/reconcile?since=2d", authorization: "Bearer nope").status == .unauthorized)
        #expect(router.respond(method: .GET, uri: "/v1/reconcile?since=200d", authorization: "Bearer secret-token").status == .badRequest)
        #expect(router.respond(method: .GET, uri: "/v1/reconcile?provider=gemini", authorization: "Bearer secret-token").status == .badRequest)
        #expect(router.respond(method: .GET, uri: "/v1/reconcile?tolerance_percent=x", authorization: "Bearer secret-token").status == .badRequest)
        let answer = router.respond(method: .GET, uri: "/v1/reconcile?since=1d&provider=anthropic", authorization: "Bearer secret-token")
        #expect(answer.status == .ok)
        let report = try JSONDecoder().decode(ReconcileReport.self, from: Data(answer.body.utf8))
        #expect(report.providers.map(\.provider) == [.anthropic] && !report.rows.isEmpty && report.allMatch)
        router.reconciler = nil
        #expect(router.respond(method: .GET, uri: "/v1/reconcile", authorization: "Bearer secret-token").status == .notFound)
    }
}
