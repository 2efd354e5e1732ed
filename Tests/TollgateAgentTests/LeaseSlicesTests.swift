import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateProviders
import TollgateWire
@testable import TollgateAgent

/// The agent's side of leases: a slice admits only what fits its worst case, settles with
/// the actual cost, asks for more when low, lapses on time, and is given back only once
/// everything admitted under it is counted by the aggregator.
@Suite struct LeaseSlicesTests {
    static let noon: Int64 = 1_795_435_200
    let clock = ManualClock(unixSeconds: LeaseSlicesTests.noon)

    static let team = Budget(id: "team", selector: BudgetSelector(conditions: [.init(.team, "ml")]), unit: .usd,
                             limit: 10_000_000_000, period: .day, owner: "alice@example.com")

    func leasedStatus(spent: Int64 = 9_000_000_000) -> BudgetStatus {
        var status = BudgetStatus.evaluate(budget: Self.team, exemptions: [], spent: spent, now: Self.noon)
        status.leased = true
        return status
    }

    func grant(_ leaseID: UInt64, total: Int64, added: Int64? = nil, refused: LeaseGrantMessage.Refusal? = nil) -> LeaseGrantMessage {
        LeaseGrantMessage(budgetID: "team", windowStart: leasedStatus().windowStart, leaseID: leaseID, added: added ?? total, total: total,
                          ttlMilliseconds: 5_000, refused: refused)
    }

    func book(with status: BudgetStatus) -> QuotaBook {
        let book = QuotaBook(agentID: "agent-1", clock: clock.serviceClock)
        _ = book.apply(QuotaUpdateMessage(version: 1, isSnapshot: true, budgets: [status], issuedAtMilliseconds: 0, watermarks: [:]))
        return book
    }

    func gate(_ book: QuotaBook) -> QuotaGate {
        QuotaGate(book: book, settings: QuotaGate.Settings(), prices: DefaultPriceCatalog.load())
    }

    func request(maxTokens: Int64 = 1000) -> (ProviderRequest, Int) {
        let body = #"{"model":"gpt-4o","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"hi"}]}"#
        return (ProviderRequest.classify(provider: .openai, method: "POST", path: "/v1/chat/completions", query: nil, body: Data(body.utf8))!, body.utf8.count)
    }

    static var ml: Dimensions {
        var dimensions = Dimensions()
        dimensions.team = "ml"
        return dimensions
    }

    @Test func admitsOnlyWhatFitsTheSliceAndSettlesTheActualCost() throws {
        let book = book(with: leasedStatus())
        let gate = gate(book)
        let (request, bytes) = request()
        let worst = gate.leasedWorstCase(request, unit: .usd, requestBodyBytes: bytes)
        // No answer yet since the switch: admitted as before it, and counted into the first slice.
        guard case .admit(let bridged) = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision else {
            Issue.record("refused before the aggregator could answer")
            return
        }
        let asks = book.leaseRequests()
        #expect(asks.count == 1)
        #expect(asks.first?.need == worst)
        #expect(asks.first?.leaseID == 0)
        // The bridged request is in flight: the first slice carries it, the ask reports only settled spend.
        #expect(asks.first?.unreflected == 0)
        #expect(book.leases.openings["team"]?.charge == worst)

        book.received(grant(7, total: worst * 3 + worst / 2))
        #expect(book.leases.live["team"]?.used == worst)
        var admitted: [QuotaBook.Reservation] = []
        for _ in 0..<3 {
            if case .admit(let reservation) = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision { admitted.append(reservation) }
        }
        #expect(admitted.count == 2)  // the third's worst case does not fit in what is left
        #expect(book.leases.live["team"]?.used == worst * 3)
        guard case .refuse(let refusal) = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision else {
            Issue.record("admitted past the slice")
            return
        }
        #expect(refusal.leased)
        #expect(refusal.message.contains("no room") && refusal.message.contains("alice@example.com"))
        book.settle(bridged, spent: nil)
        #expect(book.leases.live["team"]?.used == worst * 2)  // the bridged request settles in the slice it was charged to

        // Settled at a tenth of the worst case: the room comes back.
        let event = UsageEvent(unixTime: Self.noon, dimensions: Self.ml, tokens: TokenUsage(input: 10, output: 100), cost: Nanodollars(worst / 10))
        book.settle(admitted[0], spent: event)
        let used = try #require(book.leases.live["team"]?.used)
        #expect(used == worst + worst / 10)
        if case .admit = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision {} else {
            Issue.record("refused though the settled request left room")
        }
    }

    @Test func asksForMoreWhenLowAndLapsesWithoutAGrant() {
        let book = book(with: leasedStatus())
        let gate = gate(book)
        let (request, bytes) = request()
        let worst = gate.leasedWorstCase(request, unit: .usd, requestBodyBytes: bytes)
        _ = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes)
        _ = book.leaseRequests()
        book.received(grant(3, total: worst * 3))
        #expect(book.leaseRequests().isEmpty)  // what it admitted before the answer is carried by the slice, not reported
        book.received(grant(3, total: worst * 3, added: 0))
        #expect(book.leaseRequests().isEmpty)  // room for two more: not low
        _ = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes)
        _ = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes)
        let topUp = book.leaseRequests()
        #expect(topUp.count == 1)
        #expect(topUp.first?.leaseID == 3)
        #expect(topUp.first.map { $0.want > 0 } == true)
        // No answer (partitioned): after its TTL the slice admits nothing.
        clock.advance(by: .seconds(6))
        guard case .refuse = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision else {
            Issue.record("admitted under a lapsed slice")
            return
        }
        #expect(book.leases.live["team"] == nil)
        #expect(book.leases.lapsed["team"]?.leaseID == 3)
    }

    @Test func aLapsedSliceIsGivenBackOnlyOnceItsUsageIsCounted() {
        let book = book(with: leasedStatus())
        let gate = gate(book)
        let (request, bytes) = request()
        let bridged = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision
        _ = book.leaseRequests()
        book.received(grant(5, total: 1_000_000_000))
        // The bridged request was never sent: the first slice carried it, and it settles at nothing.
        if case .admit(let reservation) = bridged { book.settle(reservation, spent: nil) }
        guard case .admit(let reservation) = gate.decide(request, dimensions: Self.ml, requestBodyBytes: bytes).decision else {
            Issue.record("refused within the slice")
            return
        }
        clock.advance(by: .seconds(6))
        #expect(!book.leaseRequests().contains { $0.release })  // a request is still in flight
        let event = UsageEvent(unixTime: Self.noon, dimensions: Self.ml, tokens: TokenUsage(input: 10, output: 100), cost: Nanodollars(5_000))
        let ticket = book.settle(reservation, spent: event)
        #expect(!book.leaseRequests().contains { $0.release })  // its usage is not shipped
        book.cut(seq: 4, tickets: [ticket])
        #expect(!book.leaseRequests().contains { $0.release })  // shipped, not yet counted
        _ = book.apply(QuotaUpdateMessage(version: 2, isSnapshot: false, budgets: [leasedStatus(spent: 9_000_005_000)],
                                          issuedAtMilliseconds: 0, watermarks: ["agent-1": 4]))
        let releases = book.leaseRequests().filter(\.release)
        #expect(releases.map(\.leaseID) == [5])
    }

    @Test func anAnswerNamingASliceIsAdoptedEvenWhenNothingIsGranted() {
        var slices = LeaseSlices()
        let now = clock.serviceClock.now
        slices.received(grant(9, total: 0, refused: .noRemainder), ttl: .seconds(5), now: now)
        #expect(slices.live["team"]?.leaseID == 9)
        #expect(slices.reserve(budgetID: "team", windowStart: leasedStatus().windowStart, worst: 1, now: now) == nil)
        // A stale answer for an older slice changes nothing.
        slices.received(grant(8, total: 50), ttl: .seconds(5), now: now)
        #expect(slices.live["team"]?.granted == 0)
        slices.received(grant(9, total: 50), ttl: .seconds(5), now: now)
        #expect(slices.reserve(budgetID: "team", windowStart: leasedStatus().windowStart, worst: 50, now: now) == 9)
    }
}
