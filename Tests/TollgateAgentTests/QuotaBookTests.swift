import Foundation
import Testing
import TestSupport
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

/// The book's accounting of this agent's own spend against the pushed state: every amount
/// is counted exactly once whatever order settle, cut and watermark arrive in.
@Suite struct QuotaBookTests {
    /// 2026-11-23T12:00:00Z, inside an hour window [12:00, 13:00).
    static let noon: Int64 = 1_795_435_200
    static let requests = Budget(id: "ci-requests", selector: BudgetSelector(conditions: [.init(.environment, "ci")]),
                                 unit: .requests, limit: 3, period: .hour)
    let clock = ManualClock()

    func book() -> QuotaBook { QuotaBook(agentID: "me", clock: clock.serviceClock) }

    func status(spent: Int64, now: Int64 = noon, budget: Budget = requests) -> BudgetStatus {
        BudgetStatus.evaluate(budget: budget, exemptions: [], spent: spent, now: now)
    }

    func update(_ version: UInt64, spent: Int64, snapshot: Bool = false, now: Int64 = noon, watermarks: [String: UInt64] = [:]) -> QuotaUpdateMessage {
        QuotaUpdateMessage(version: version, isSnapshot: snapshot, budgets: [status(spent: spent, now: now)], issuedAtMilliseconds: 0,
                           watermarks: watermarks)
    }

    var ci: Dimensions {
        var dimensions = Dimensions()
        dimensions.provider = "openai"
        dimensions.environment = "ci"
        return dimensions
    }

    func event(at unix: Int64 = noon) -> UsageEvent {
        UsageEvent(unixTime: unix, dimensions: ci, tokens: TokenUsage(input: 5, output: 5), cost: Nanodollars(100))
    }

    func projected(_ book: QuotaBook, at unix: Int64 = noon) -> Int64? {
        book.standings(for: ci, nowUnix: unix).first?.projected
    }

    @Test func spendIsCountedOnceFromSettleThroughCutToWatermark() {
        let book = book()
        _ = book.apply(update(1, spent: 0, snapshot: true))
        let ticket = book.settle(.none, spent: event())
        #expect(ticket != 0)
        #expect(projected(book) == 1, "settled, not cut: counted locally")
        book.cut(seq: 1, tickets: [ticket])
        #expect(projected(book) == 1, "cut, not acknowledged: still counted locally, once")
        // A delta that does not name us yet (another agent's batch): spent 1 is theirs.
        _ = book.apply(update(2, spent: 1, watermarks: ["other": 9]))
        #expect(projected(book) == 2, "not covered by a watermark: no gap")
        // The aggregator commits our batch: spent 2 includes it, watermark 1 says so.
        _ = book.apply(update(3, spent: 2, watermarks: ["me": 1, "other": 9]))
        #expect(projected(book) == 2, "covered: counted once, in spent (no double count)")
        #expect(book.localSpend.isEmpty)
    }

    @Test func aWatermarkBelowTheBatchKeepsItAndOneBeyondDropsAll() {
        let book = book()
        _ = book.apply(update(1, spent: 0, snapshot: true))
        let first = book.settle(.none, spent: event())
        book.cut(seq: 4, tickets: [first])
        let second = book.settle(.none, spent: event())
        book.cut(seq: 5, tickets: [second])
        let third = book.settle(.none, spent: event())
        #expect(projected(book) == 3)
        _ = book.apply(update(2, spent: 1, watermarks: ["me": 4]))
        #expect(projected(book) == 3, "batch 5 and the uncut third are still ours alone")
        // A watermark beyond every cut batch (merged or resent batches) drops them all,
        // but never what is not cut yet.
        _ = book.apply(update(3, spent: 2, watermarks: ["me": 9]))
        #expect(projected(book) == 3)
        book.cut(seq: 10, tickets: [third])
        _ = book.apply(update(4, spent: 3, watermarks: ["me": 10]))
        #expect(projected(book) == 3 && book.localSpend.isEmpty)
    }

    @Test func aCutAlreadyCoveredByTheWatermarkIsDroppedAtOnce() {
        let book = book()
        _ = book.apply(update(1, spent: 5, snapshot: true, watermarks: ["me": 20]))
        let ticket = book.settle(.none, spent: event())
        book.cut(seq: 20, tickets: [ticket])
        #expect(projected(book) == 5)
    }

    @Test func aSnapshotAfterAnAggregatorRestartSettlesByItsWatermarks() {
        let book = book()
        _ = book.apply(update(1, spent: 0, snapshot: true))
        let a = book.settle(.none, spent: event())
        book.cut(seq: 1, tickets: [a])
        let b = book.settle(.none, spent: event())
        book.cut(seq: 2, tickets: [b])
        // The restarted aggregator's first snapshot (version 1 again) has batch 1 only.
        #expect(book.apply(update(1, spent: 1, snapshot: true, watermarks: ["me": 1])) == .applied)
        #expect(projected(book) == 2)
        // A snapshot that does not name us: none of our batches are in it; keep both... of what is left.
        #expect(book.apply(update(2, spent: 1, snapshot: true)) == .applied)
        #expect(projected(book) == 2)
    }

    @Test func aVersionGapAppliesNothingAndReleasesNothing() {
        let book = book()
        _ = book.apply(update(1, spent: 0, snapshot: true))
        let ticket = book.settle(.none, spent: event())
        book.cut(seq: 1, tickets: [ticket])
        #expect(book.apply(update(3, spent: 1, watermarks: ["me": 1])) == .gap(expected: 2, received: 3))
        #expect(projected(book) == 1)
    }

    @Test func spendFromAnEndedWindowDoesNotCountInTheNext() {
        let book = book()
        _ = book.apply(update(1, spent: 2, snapshot: true))
        // At 12:59:30 one request is settled and cut, not yet acknowledged.
        let late = book.settle(.none, spent: event(at: Self.noon + 3570))
        book.cut(seq: 1, tickets: [late])
        #expect(projected(book, at: Self.noon + 3570) == 3)
        // 13:00:10: the window ended, no new status yet: committed 0, the 12:59 request not ours to count.
        let next = Self.noon + 3610
        #expect(projected(book, at: next) == 0)
        let fresh = book.settle(.none, spent: event(at: next))
        #expect(projected(book, at: next) == 1)
        // The new window's status arrives before our batches are acknowledged.
        _ = book.apply(update(2, spent: 0, snapshot: true, now: next))
        #expect(projected(book, at: next) == 1)
        book.cut(seq: 2, tickets: [fresh])
        _ = book.apply(update(3, spent: 1, now: next, watermarks: ["me": 2]))
        #expect(projected(book, at: next) == 1 && book.localSpend.isEmpty)
    }

    @Test func onlyMatchingBudgetsHoldSpendAndBlockedEventsHoldNothing() {
        let book = book()
        _ = book.apply(update(1, spent: 0, snapshot: true))
        var other = ci
        other.environment = "prod"
        let elsewhere = UsageEvent(unixTime: Self.noon, dimensions: other, tokens: .zero, cost: .zero)
        #expect(book.settle(.none, spent: elsewhere) == 0)
        let blocked = UsageEvent(unixTime: Self.noon, dimensions: ci, tokens: .zero, cost: .zero, flags: .blocked)
        #expect(book.settle(.none, spent: blocked) == 0, "a refusal is not a request against a budget")
        #expect(book.settle(.none, spent: nil) == 0)
        #expect(book.localSpend.isEmpty)
    }
}

/// The gate's answers near the limit: the hard ceiling, and what a refusal says.
@Suite struct QuotaGateLimitTests {
    static let noon: Int64 = 1_795_435_200
    let now = Date(timeIntervalSince1970: TimeInterval(noon))

    func gate(_ statuses: [BudgetStatus]) -> QuotaGate {
        let book = QuotaBook(agentID: "me")
        _ = book.apply(QuotaUpdateMessage(version: 1, isSnapshot: true, budgets: statuses, issuedAtMilliseconds: 0))
        return QuotaGate(book: book, settings: QuotaGate.Settings(), prices: DefaultPriceCatalog.load())
    }

    func request(maxTokens: Int64 = 10) -> ProviderRequest {
        let body = #"{"model":"gpt-4o","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"hi"}]}"#
        return ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: Data(body.utf8))!
    }

    var dimensions: Dimensions {
        var dimensions = Dimensions()
        dimensions.provider = "openai"
        dimensions.model = "gpt-4o"
        return dimensions
    }

    func refusal(_ gate: QuotaGate, maxTokens: Int64 = 10) -> QuotaGate.Refusal? {
        if case .refuse(let refusal) = gate.decide(request(maxTokens: maxTokens), dimensions: dimensions, requestBodyBytes: 80, now: now).decision {
            return refusal
        }
        return nil
    }

    /// A 1,000-request budget: with `--action block --hard-ceiling 150` the agent blocks at
    /// 1,500, where the aggregator's state says it is blocked; not at the limit.
    @Test(arguments: [(1_000, false), (1_490, false), (1_499, false), (1_500, true)])
    func aBlockBudgetWithAHardCeilingBlocksAtTheCeiling(spent: Int64, refused: Bool) {
        let budget = Budget(id: "ceiling", selector: .all, unit: .requests, limit: 1_000, period: .day, action: .block, hardCeilingPercent: 150)
        let status = BudgetStatus.evaluate(budget: budget, exemptions: [], spent: spent, now: Self.noon)
        #expect(status.blockAt == 1_500)
        #expect(status.isBlocking == (spent >= 1_500))
        #expect(status.state == (spent >= 1_500 ? .blocked : .overLimit))
        #expect((refusal(gate([status])) != nil) == refused)
    }

    @Test func aRequestBudgetRefusalSpeaksOfRequests() throws {
        let budget = Budget(id: "ci-requests", selector: .all, unit: .requests, limit: 3, period: .hour)
        let status = BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 2, now: Self.noon)
        let gate = gate([status])
        guard case .admit = gate.decide(request(), dimensions: dimensions, requestBodyBytes: 80, now: now).decision else {
            Issue.record("the third request fits"); return
        }
        let message = try #require(refusal(gate)?.message)
        #expect(message.contains("has no requests left: 3 requests of 3 requests are spent or in flight"))
        #expect(!message.contains("max_tokens") && !message.contains("could use up to"))
        let exhausted = try #require(refusal(self.gate([BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 3, now: Self.noon)]))?.message)
        #expect(exhausted.contains("is used up: 3 requests of 3 requests spent") && !exhausted.contains("max_tokens"))
    }

    /// A budget set with `--mode observe` never refuses, on an enforcing agent too; what it
    /// would have refused comes back as `observed`, and it travels in the quota state.
    @Test func anObserveBudgetNeverRefusesButReportsWhatItWouldHave() throws {
        var observed = Budget(id: "trial", selector: .all, unit: .requests, limit: 3, period: .hour)
        observed.mode = .observe
        let status = BudgetStatus.evaluate(budget: observed, exemptions: [], spent: 3, now: Self.noon)
        #expect(status.mode == .observe && status.isBlocking)
        let (decision, seen) = gate([status]).decide(request(), dimensions: dimensions, requestBodyBytes: 80, now: now)
        guard case .admit = decision else { Issue.record("an observe budget never blocks"); return }
        #expect(seen.map(\.budget?.budgetID) == ["trial"])
        // An enforced budget beside it still refuses, and is the one named.
        let enforced = BudgetStatus.evaluate(budget: Budget(id: "hard", selector: .all, unit: .requests, limit: 3, period: .hour),
                                             exemptions: [], spent: 3, now: Self.noon)
        #expect(refusal(gate([status, enforced]))?.budget?.budgetID == "hard")
        let message = QuotaUpdateMessage(version: 1, isSnapshot: true, budgets: [status, enforced], issuedAtMilliseconds: 0)
        #expect(try QuotaUpdateCodec.decode(try QuotaUpdateCodec.encode(message)).budgets.map(\.mode) == [.observe, .enforce])
    }

    @Test func aTokenBudgetRefusalKeepsTheMaxTokensAdvice() throws {
        let budget = Budget(id: "tokens", selector: .all, unit: .tokens, limit: 1_000, period: .hour)
        let status = BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 900, now: Self.noon)
        let message = try #require(refusal(gate([status]), maxTokens: 500)?.message)
        #expect(message.contains("could use up to") && message.contains("set a lower max_tokens to fit"))
    }
}

/// An agent that never received budgets says so: when, how often, and in which state.
@Suite struct QuotaChannelHealthTests {
    @Test func noSnapshotWarnsAfterTheTimeoutThenAtABoundedRateUntilOneArrives() {
        let clock = ManualClock()
        let start = clock.serviceClock.now
        var health = QuotaChannelHealth(startedAt: start, firstSnapshotTimeout: .seconds(5), staleAfter: .seconds(30))
        func at(_ seconds: Int64) -> ServiceClock.Instant { start.advanced(by: .seconds(seconds)) }
        #expect(health.state(lastUpdate: nil, now: at(1)) == .neverSubscribed)
        #expect(health.warning(lastUpdate: nil, now: at(4), endpoint: "tcp://agg:7602") == nil, "not before the timeout")
        let first = health.warning(lastUpdate: nil, now: at(5), endpoint: "tcp://agg:7602")
        #expect(first?.contains("tcp://agg:7602") == true && first?.contains("quota_listen") == true
            && first?.contains("quota.endpoint") == true && first?.contains("authorized_keys_dir") == true)
        #expect(health.warning(lastUpdate: nil, now: at(6), endpoint: "e") == nil, "repeats are rate-limited")
        #expect(health.warning(lastUpdate: nil, now: at(64), endpoint: "e") == nil)
        #expect(health.warning(lastUpdate: nil, now: at(65), endpoint: "e") != nil, "and come back every minute")
        // A snapshot arrives: enforcing, no more warnings; silent past stale_after: stale.
        #expect(health.warning(lastUpdate: at(70), now: at(200), endpoint: "e") == nil)
        #expect(health.state(lastUpdate: at(70), now: at(90)) == .enforcing)
        #expect(health.state(lastUpdate: at(70), now: at(101)) == .stale)
    }
}
