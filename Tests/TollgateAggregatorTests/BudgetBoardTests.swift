import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAggregator

@Suite struct BudgetBoardTests {
    static let logger = Logger(label: "test")

    static func board(_ store: UsageStore, clock: ManualClock, metrics: AggregatorMetrics = AggregatorMetrics(),
                      webhook: WebhookNotifier? = nil) -> BudgetBoard {
        BudgetBoard(store: store, alerts: BudgetAlerts(metrics: metrics, logger: logger, webhook: webhook), clock: clock.serviceClock)
    }

    static func budget(limit: Int64 = 1_000, action: BudgetAction = .block, ceiling: Int? = nil) -> Budget {
        Budget(id: "ml-daily", selector: try! BudgetSelector(parsing: "team=ml"), unit: .usd, limit: limit, period: .day,
               action: action, hardCeilingPercent: ceiling, owner: "alice@example.com")
    }

    /// Applies a batch as the ingest thread does: commit, then tell the board.
    static func ingest(_ store: UsageStore, _ board: BudgetBoard, seq: UInt64, cost: Int64, minute: Int64 = BudgetStoreTests.minute) throws {
        var spend: [BudgetSpend] = []
        #expect(try store.apply(BudgetStoreTests.batch(seq, [BudgetStoreTests.cell(minute: minute, cost: cost)]), budgetSpend: &spend) == .applied)
        board.didCommit(spend)
    }

    @Test func observersSeeTouchedStatusesAfterEachCommitAndAPIChanges() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let board = Self.board(store, clock: clock)
            let updates = NIOLockedValueBox<[BudgetUpdate]>([])
            board.addObserver { update in updates.withLockedValue { $0.append(update) } }

            try board.setBudget(Self.budget())
            try Self.ingest(store, board, seq: 1, cost: 600)
            try Self.ingest(store, board, seq: 2, cost: 500)
            try board.addExemption(BudgetExemption(budgetID: "ml-daily", limit: 2_000, from: 0, until: 86_400, reason: "launch", author: "bob", createdAt: 0))
            #expect(try board.removeBudget(id: "ml-daily"))

            let seen = updates.withLockedValue { $0 }
            #expect(seen.map(\.cause) == [.budgetSet, .usage, .usage, .exemption, .budgetRemoved])
            #expect(seen[1].statuses.map(\.state) == [.warning(thresholdPercent: 50)])
            #expect(seen[2].statuses.first?.isBlocking == true && seen[2].statuses.first?.spent == 1_100)
            #expect(seen[3].statuses.first?.effectiveLimit == 2_000 && seen[3].statuses.first?.isBlocking == false)
            #expect(seen[4].removedBudgetIDs == ["ml-daily"] && seen[4].statuses.isEmpty)
        }
    }

    @Test func statusesFollowTheClockIntoTheNextWindow() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let board = Self.board(store, clock: clock)
            try board.setBudget(Self.budget())
            try Self.ingest(store, board, seq: 1, cost: 1_000)
            #expect(try board.statuses().map(\.state) == [.blocked])
            clock.advance(toUnixSeconds: 86_400)  // midnight UTC: a new day
            let next = try board.statuses()
            #expect(next.map(\.state) == [.ok] && next.first?.spent == 0 && next.first?.windowStart == 86_400)
        }
    }

    @Test func eachAlertFiresOncePerLevelAndWindowEvenAcrossRestarts() throws {
        try withTemporaryDirectory { directory in
            let metrics = AggregatorMetrics()
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            func fired(_ level: Int) -> Double { MetricsText(metrics.exposition())["tollgate_budget_alerts_total{budget=\"ml-daily\",level=\"\(level)\"}"] ?? 0 }
            do {
                let store = try UsageStore(directory: directory)
                let board = Self.board(store, clock: clock, metrics: metrics)
                try board.setBudget(Self.budget(action: .alert, ceiling: 150))
                try Self.ingest(store, board, seq: 1, cost: 800)     // 80 %: 50 and 75
                try Self.ingest(store, board, seq: 2, cost: 10)      // nothing new
                #expect([50, 75, 90, 100, 150].map(fired) == [1, 1, 0, 0, 0])
            }
            let store = try UsageStore(directory: directory)
            let board = Self.board(store, clock: clock, metrics: metrics)
            try Self.ingest(store, board, seq: 3, cost: 700)         // 151 %: 90, 100, 150, not 50/75 again
            #expect([50, 75, 90, 100, 150].map(fired) == [1, 1, 1, 1, 1])
            clock.advance(toUnixSeconds: 86_400 + 60)
            try Self.ingest(store, board, seq: 4, cost: 600, minute: 1_441)  // a new day: 50 fires again
            #expect(fired(50) == 2 && fired(75) == 1)
        }
    }

    @Test func alertsArePostedToTheWebhookWithRetries() throws {
        try withTemporaryDirectory { directory in
            let recorder = WebhookRecorder(failures: 2)
            let url = try recorder.start()
            defer { recorder.stop() }
            let metrics = AggregatorMetrics()
            let webhook = WebhookNotifier(settings: .init(url: url, maxAttempts: 4, firstRetryDelay: .milliseconds(50)), metrics: metrics, logger: Self.logger)
            let store = try UsageStore(directory: directory)
            let board = Self.board(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now), metrics: metrics, webhook: webhook)
            try board.setBudget(Self.budget())
            try Self.ingest(store, board, seq: 1, cost: 1_000)
            #expect(webhook.waitUntilIdle(timeout: .seconds(20)))

            let bodies = recorder.bodies
            #expect(bodies.count == 4)  // 50, 75, 90, 100 — each delivered once
            #expect(recorder.attempts == 6)
            #expect(MetricsText(metrics.exposition())["tollgate_alert_webhook_failures_total"] == 2)
            #expect(MetricsText(metrics.exposition())["tollgate_alert_webhook_delivered_total"] == 4)
            let objects = bodies.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            #expect(Set(objects.compactMap { $0["level"] as? Int }) == [50, 75, 90, 100])
            let limit = objects.first { $0["level"] as? Int == 100 }
            #expect((limit?["text"] as? String)?.contains("ml-daily") == true)
            #expect(limit?["kind"] as? String == "limit")
            #expect((limit?["status"] as? [String: Any])?["state"] as? String == "blocked")
        }
    }

    @Test func aWebhookThatNeverAnswersIsGivenUpOnAndCounted() throws {
        try withTemporaryDirectory { directory in
            let recorder = WebhookRecorder(failures: 100)
            let url = try recorder.start()
            defer { recorder.stop() }
            let metrics = AggregatorMetrics()
            let webhook = WebhookNotifier(settings: .init(url: url, maxAttempts: 3, firstRetryDelay: .milliseconds(10)), metrics: metrics, logger: Self.logger)
            let store = try UsageStore(directory: directory)
            let board = Self.board(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now), metrics: metrics, webhook: webhook)
            try board.setBudget(Self.budget(limit: 1_000_000))
            try Self.ingest(store, board, seq: 1, cost: 500_000)  // 50 % only
            #expect(webhook.waitUntilIdle(timeout: .seconds(20)))
            #expect(recorder.attempts == 3)
            #expect(MetricsText(metrics.exposition())["tollgate_alert_webhook_abandoned_total"] == 1)
        }
    }

    @Test func webhookRetryDelaysDoubleUpToAMinute() {
        let delays = (1...8).map { WebhookNotifier.retryDelay(after: $0, first: .seconds(1)) }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
    }

    /// Budgets stored before model identity named snapshots; at start they are rewritten to
    /// the canonical model and recounted, so they match requests again.
    @Test func storedBudgetsAreRewrittenToTheCanonicalModelAtStart() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            _ = try store.setBudget(BudgetStoreTests.budget("gpt41", selector: "model=gpt-4.1-2025-04-14", unit: .requests), now: BudgetStoreTests.now)
            _ = try store.setBudget(BudgetStoreTests.budget("mystery", selector: "model=in-house-llm"), now: BudgetStoreTests.now)
            _ = try store.setBudget(BudgetStoreTests.budget("canonical", selector: "model=gpt-4o,team=ml"), now: BudgetStoreTests.now)
            var cell = BudgetStoreTests.cell(minute: BudgetStoreTests.minute, requests: 2)
            cell.key.dimensions.model = "gpt-4.1"
            #expect(try store.apply(BudgetStoreTests.batch(1, [cell])) == .applied)

            let board = Self.board(store, clock: clock)
            let report = try board.resolveStoredModels(with: DefaultPriceCatalog.load())
            #expect(report == BudgetBoard.ModelResolutionReport(rewritten: ["gpt41"], unknown: ["mystery"]))
            #expect(store.budget(id: "gpt41")?.budget.selector.description == "model=gpt-4.1")
            #expect(try board.status(budgetID: "gpt41")?.spent == 2, "recounted under the canonical model")
            #expect(try board.resolveStoredModels(with: DefaultPriceCatalog.load()).rewritten.isEmpty, "nothing left to rewrite")
        }
    }
}
