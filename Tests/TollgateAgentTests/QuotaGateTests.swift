import Foundation
import NIOCore
import NIOConcurrencyHelpers
import TestSupport
import Testing
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

/// The gate's decisions from a cached quota state, on a manual clock.
@Suite struct QuotaGateTests {
    /// 2026-11-23T12:00:00Z; the day window ends at midnight UTC, 12 h later.
    static let noon: Int64 = 1_795_435_200
    let clock = ManualClock()

    func book() -> QuotaBook {
        let clock = clock
        return QuotaBook(agentID: "agent-1", clock: clock.serviceClock)
    }

    func gate(_ book: QuotaBook, _ settings: QuotaGate.Settings = QuotaGate.Settings()) -> QuotaGate {
        QuotaGate(book: book, settings: settings, prices: DefaultPriceCatalog.load())
    }

    func status(_ budget: Budget, spent: Int64) -> BudgetStatus {
        BudgetStatus.evaluate(budget: budget, exemptions: [], spent: spent, now: Self.noon)
    }

    static let mlDaily = Budget(id: "ml-daily", selector: BudgetSelector(conditions: [.init(.team, "ml")]), unit: .usd,
                                limit: 10_000_000_000, period: .day, owner: "alice@example.com")
    static let ciRequests = Budget(id: "ci-requests", selector: BudgetSelector(conditions: [.init(.environment, "ci")]),
                                   unit: .requests, limit: 100, period: .hour)

    func request(maxTokens: Int64? = 1000) -> ProviderRequest {
        let body = maxTokens.map { #"{"model":"gpt-4o","max_tokens":\#($0),"messages":[{"role":"user","content":"hi"}]}"# }
            ?? #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
        return ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: Data(body.utf8))!
    }

    func dimensions(team: String = "ml", environment: String = "ci") -> Dimensions {
        var dimensions = Dimensions()
        dimensions.provider = "openai"
        dimensions.model = "gpt-4o"
        dimensions.team = team
        dimensions.environment = environment
        return dimensions
    }

    func snapshot(_ statuses: [BudgetStatus], version: UInt64 = 1) -> QuotaUpdateMessage {
        QuotaUpdateMessage(version: version, isSnapshot: true, budgets: statuses, issuedAtMilliseconds: 0)
    }

    var now: Date { Date(timeIntervalSince1970: TimeInterval(Self.noon)) }

    @Test func farFromTheLimitRequestsPassAndReserveTheirWorstCase() throws {
        let book = book()
        #expect(book.apply(snapshot([status(Self.mlDaily, spent: 1_000_000_000)])) == .applied)
        let (decision, observed) = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now)
        guard case .admit = decision else { Issue.record("expected admit"); return }
        #expect(observed.isEmpty)
        let projected = try #require(book.standings(for: dimensions(), nowUnix: Self.noon).first?.projected)
        // 1000 output tokens of gpt-4o at $10/M plus ~20 input tokens: about a cent held.
        #expect(projected > 1_000_000_000 && projected < 1_020_000_000)
    }

    @Test func anExhaustedBudgetRefusesWithItsNameOwnerAndReset() throws {
        let book = book()
        _ = book.apply(snapshot([status(Self.mlDaily, spent: 10_000_000_000)]))
        let (decision, _) = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now)
        guard case .refuse(let refusal) = decision else { Issue.record("expected a refusal"); return }
        #expect(refusal.budget?.budgetID == "ml-daily")
        #expect(refusal.retryAfterSeconds == 12 * 3600)
        #expect(refusal.message.contains("'ml-daily'") && refusal.message.contains("alice@example.com") && refusal.message.contains("2026-11-24T00:00:00Z"))
        // Other teams are not covered by it.
        let (other, _) = gate(book).decide(request(), dimensions: dimensions(team: "search"), requestBodyBytes: 80, now: now)
        guard case .admit = other else { Issue.record("another team must pass"); return }
    }

    @Test func nearTheLimitTheWorstCaseMustFit() {
        let book = book()
        // $0.05 left; a request that may write 32,768 tokens of gpt-4o ($0.33) does not fit,
        // the same request capped at 1,000 tokens ($0.01) does.
        _ = book.apply(snapshot([status(Self.mlDaily, spent: 9_950_000_000)]))
        let (unbounded, _) = gate(book).decide(request(maxTokens: nil), dimensions: dimensions(), requestBodyBytes: 80, now: now)
        guard case .refuse(let refusal) = unbounded else { Issue.record("expected a refusal"); return }
        #expect(refusal.message.contains("max_tokens"))
        let (bounded, _) = gate(book).decide(request(maxTokens: 1000), dimensions: dimensions(), requestBodyBytes: 80, now: now)
        guard case .admit = bounded else { Issue.record("expected admit"); return }
    }

    @Test func reservationsAndUnreflectedSpendCountUntilTheAggregatorHasThem() {
        let book = book()
        let gate = gate(book)
        _ = book.apply(snapshot([status(Self.ciRequests, spent: 97)]))
        var held: [QuotaBook.Reservation] = []
        for _ in 0..<3 {
            guard case .admit(let reservation) = gate.decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
                Issue.record("the first three requests fit"); return
            }
            held.append(reservation)
        }
        guard case .refuse = gate.decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("three in flight use up the last three requests"); return
        }
        // They complete: each spent one request, now local spend instead of a reservation.
        let event = UsageEvent(unixTime: Self.noon, dimensions: dimensions(), tokens: TokenUsage(input: 10, output: 10), cost: Nanodollars(1))
        let tickets = held.map { book.settle($0, spent: event) }
        guard case .refuse = gate.decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("settled spend still counts"); return
        }
        // Cut into batch 7, committed and pushed with watermark 7: only the pushed 100 counts.
        book.cut(seq: 7, tickets: tickets)
        _ = book.apply(QuotaUpdateMessage(version: 2, isSnapshot: false, budgets: [status(Self.ciRequests, spent: 100)],
                                          issuedAtMilliseconds: 0, watermarks: ["agent-1": 7]))
        #expect(book.standings(for: dimensions(), nowUnix: Self.noon).first?.projected == 100)
    }

    @Test func aNewWindowStartsFromZero() {
        let book = book()
        _ = book.apply(snapshot([status(Self.ciRequests, spent: 100)]))
        let later = Date(timeIntervalSince1970: TimeInterval(Self.noon + 3600))
        guard case .admit = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: later).decision else {
            Issue.record("the hour is over: the budget has reset"); return
        }
    }

    @Test func observeModeAdmitsButReportsWhatItWouldHaveBlocked() {
        let book = book()
        _ = book.apply(snapshot([status(Self.mlDaily, spent: 10_000_000_000)]))
        var settings = QuotaGate.Settings()
        settings.enforcement = .observe
        let (decision, observed) = gate(book, settings).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now)
        guard case .admit = decision else { Issue.record("observe mode never blocks"); return }
        #expect(observed.map(\.budget?.budgetID) == ["ml-daily"])
        #expect(book.view(staleAfter: .seconds(30)).wouldBlock == [BudgetWouldBlock(budgetID: "ml-daily", windowStart: Self.noon - 12 * 3600, requests: 1)])
    }

    /// Each observe budget a request would break counts it once, however many there are, in
    /// its current window; an enforced refusal counts for none of them (nothing was sent).
    /// The counts are what the fleet report carries, and a removed budget leaves them.
    @Test func everyObserveBudgetThatWouldRefuseCountsTheRequestInItsWindow() throws {
        let book = book()
        func watching(_ budget: Budget) -> Budget {
            var budget = budget
            budget.mode = .observe
            return budget
        }
        let perDay = watching(Self.mlDaily)
        let perHour = watching(Budget(id: "ml-hourly", selector: BudgetSelector(conditions: [.init(.team, "ml")]), unit: .usd,
                                      limit: 1_000, period: .hour))
        _ = book.apply(snapshot([status(perDay, spent: 10_000_000_000), status(perHour, spent: 0)]))
        for _ in 0..<3 {
            let (decision, observed) = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now)
            guard case .admit(let reservation) = decision else { Issue.record("observe budgets never block"); return }
            book.settle(reservation, spent: nil)
            #expect(observed.map(\.budget?.budgetID) == ["ml-daily", "ml-hourly"])
        }
        #expect(book.view(staleAfter: .seconds(30)).wouldBlock == [
            BudgetWouldBlock(budgetID: "ml-daily", windowStart: Self.noon - 12 * 3600, requests: 3),
            BudgetWouldBlock(budgetID: "ml-hourly", windowStart: Self.noon, requests: 3),
        ])
        // An enforced budget refuses the next one: no observe budget counts it.
        let hard = Budget(id: "hard", selector: .all, unit: .requests, limit: 1, period: .day)
        _ = book.apply(snapshot([status(perDay, spent: 10_000_000_000), status(perHour, spent: 0), status(hard, spent: 1)], version: 2))
        guard case .refuse = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("an enforced budget still refuses"); return
        }
        #expect(book.view(staleAfter: .seconds(30)).wouldBlock.map(\.requests) == [3, 3])
        // The next hour is a new window for the hourly budget: it counts from 1 again.
        let later = now.addingTimeInterval(3_600)
        _ = book.apply(snapshot([status(perHour, spent: 0)], version: 3))
        _ = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: later)
        #expect(book.view(staleAfter: .seconds(30)).wouldBlock == [BudgetWouldBlock(budgetID: "ml-hourly", windowStart: Self.noon + 3_600, requests: 1)],
                "the daily budget left the snapshot, and its count with it")
    }

    @Test func staleStateIsAllowedOrDeniedAsConfigured() {
        let book = book()
        var deny = QuotaGate.Settings()
        deny.onStale = .deny
        deny.staleAfter = .seconds(5)
        guard case .refuse(let before) = gate(book, deny).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("no update yet: deny"); return
        }
        #expect(before.budget == nil && before.message.contains("on_stale"))
        _ = book.apply(snapshot([]))
        guard case .admit = gate(book, deny).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("fresh: admit"); return
        }
        clock.advance(by: .milliseconds(6_000))
        guard case .refuse = gate(book, deny).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("stale again: deny"); return
        }
        guard case .admit = gate(book).decide(request(), dimensions: dimensions(), requestBodyBytes: 80, now: now).decision else {
            Issue.record("on_stale allow keeps going"); return
        }
    }

    @Test func aVersionGapIsReportedAndChangesNothing() {
        let book = book()
        #expect(book.apply(QuotaUpdateMessage(version: 4, isSnapshot: false, budgets: [status(Self.mlDaily, spent: 1)], issuedAtMilliseconds: 0))
            == .gap(expected: 1, received: 4), "a delta before any snapshot is a gap")
        _ = book.apply(snapshot([status(Self.mlDaily, spent: 1)], version: 10))
        #expect(book.apply(QuotaUpdateMessage(version: 12, isSnapshot: false, budgets: [], issuedAtMilliseconds: 0)) == .gap(expected: 11, received: 12))
        #expect(book.freshness.version == 10)
        #expect(book.apply(QuotaUpdateMessage(version: 11, isSnapshot: false, budgets: [], removedBudgetIDs: ["ml-daily"], issuedAtMilliseconds: 0)) == .applied)
        #expect(book.statuses.isEmpty)
    }

    @Test func quotaUpdatesRoundTripAndCorruptFramesAreRejected() throws {
        let original = QuotaUpdateMessage(version: 7, isSnapshot: true,
                                          budgets: [status(Self.mlDaily, spent: 9_000_000_000), status(Self.ciRequests, spent: 3)],
                                          removedBudgetIDs: ["old"], issuedAtMilliseconds: 1234,
                                          watermarks: ["agent-1": 41, "agent-2": 7])
        let decoded = try QuotaUpdateCodec.decode(try QuotaUpdateCodec.encode(original))
        #expect(decoded == original)
        #expect(throws: WireError.self) { try QuotaUpdateCodec.decode(Data([0xFF, 0xFF, 0xFF])) }
        var bad = Tollgate_V1_QuotaUpdate()
        var quota = Tollgate_V1_BudgetQuota()
        quota.budgetID = "x"
        quota.unit = "yen"
        bad.budgets = [quota]
        #expect(throws: WireError.self) { try QuotaUpdateCodec.decode(try bad.serializedData()) }
    }

    @Test func blockedResponsesTakeEachProvidersErrorShape() throws {
        func body(_ provider: Provider) throws -> [String: Any] {
            let response = ProviderErrorResponse(status: .tooManyRequests, code: "budget_exceeded", message: "Tollgate: no", provider: provider)
            var buffer = response.body(allocator: ByteBufferAllocator())
            return try #require(try JSONSerialization.jsonObject(with: Data(buffer.readBytes(length: buffer.readableBytes)!)) as? [String: Any])
        }
        let openai = try #require(try body(.openai)["error"] as? [String: Any])
        #expect(openai["message"] as? String == "Tollgate: no" && openai["code"] as? String == "budget_exceeded" && openai["type"] as? String == "insufficient_quota")
        let anthropic = try body(.anthropic)
        #expect(anthropic["type"] as? String == "error" && (anthropic["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
        let gemini = try #require(try body(.gemini)["error"] as? [String: Any])
        #expect(gemini["code"] as? Int == 429 && gemini["status"] as? String == "RESOURCE_EXHAUSTED")
    }
}
