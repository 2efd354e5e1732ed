import Foundation
import Logging
import TestSupport
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The fleet-wide "would have refused" figure of observe budgets: each agent's latest
/// counts, summed, in the budget's current window; an agent restart does not lower it.
@Suite struct FleetWouldBlockTests {
    static func count(_ budgetID: String, window: Int64, _ requests: Int64) -> BudgetWouldBlock {
        BudgetWouldBlock(budgetID: budgetID, windowStart: window, requests: requests)
    }

    @Test func aLedgerCarriesAnEndedProcessesCountsInTheirWindow() {
        var ledger = WouldBlockLedger()
        /// Whether the counts came from a new process.
        func receive(_ counts: [BudgetWouldBlock], process: Int64) -> Bool { ledger.receive(counts, process: process) }
        #expect(!receive([Self.count("trial", window: 0, 2)], process: 100))
        #expect(!receive([Self.count("trial", window: 0, 5), Self.count("other", window: 0, 1)], process: 100))
        #expect(ledger.requests(budgetID: "trial", windowStart: 0) == 5, "the same process: its latest count, not a sum")
        // Restarted: the new process counts from 0 again; the old one's 5 and 1 stay.
        #expect(receive([Self.count("trial", window: 0, 1)], process: 200))
        #expect(ledger.requests(budgetID: "trial", windowStart: 0) == 6)
        #expect(ledger.requests(budgetID: "other", windowStart: 0) == 1)
        #expect(ledger.requests(budgetID: "trial", windowStart: 86_400) == 0, "another window")
        // Restarted again in the next window: the day before is not added to the new one.
        #expect(receive([], process: 300))
        #expect(!receive([Self.count("trial", window: 86_400, 4)], process: 400), "nothing counted to carry")
        #expect(ledger.requests(budgetID: "trial", windowStart: 86_400) == 4)
        #expect(receive([], process: 500))
        #expect(ledger.requests(budgetID: "trial", windowStart: 86_400) == 4)
        #expect(ledger.requests(budgetID: "trial", windowStart: 0) == 0, "a newer window replaces the carried one")
    }

    func report(_ agentID: String, process: Int64, _ counts: [BudgetWouldBlock]) throws -> Data {
        var report = FleetRegistryTests.report(agentID, name: "host-\(agentID)")
        report.startedUnixMs = process
        report.wouldBlock = counts
        return try AgentReportCodec.encode(report)
    }

    /// Two agents' counts are summed in `GET /v1/budgets` (current window only), one agent's
    /// restart keeps what it counted before, and so does an aggregator restart.
    @Test func budgetsShowTheFleetsSumAcrossAgentAndAggregatorRestarts() throws {
        try withTemporaryDirectory { directory in
            let clock = ManualClock(unixSeconds: BudgetStoreTests.now)
            let day = BudgetPeriod.day.window(containing: BudgetStoreTests.now, timeZone: TimeZone(identifier: "UTC")!).start
            var trial = Budget(id: "trial", selector: try BudgetSelector(parsing: "team=ml"), unit: .requests, limit: 2, period: .day)
            trial.mode = .observe
            func listed(_ store: UsageStore, _ fleet: FleetRegistry) throws -> [String: Int64?] {
                let board = BudgetBoardTests.board(store, clock: clock)
                let router = APIRouter(store: store, metrics: AggregatorMetrics(), budgets: board, token: APIToken("t0ken"), fleet: fleet,
                                       clock: clock.serviceClock)
                let response = router.respond(method: .GET, uri: "/v1/budgets", authorization: "Bearer t0ken")
                #expect(response.body.contains(#""would_block":"#), "\(response.body)")
                let views = try JSONDecoder().decode([BudgetView].self, from: Data(response.body.utf8))
                return Dictionary(uniqueKeysWithValues: views.map { ($0.budget.id, $0.wouldBlock) })
            }
            do {
                let store = try UsageStore(directory: directory)
                _ = try store.setBudget(trial, now: BudgetStoreTests.now)
                _ = try store.setBudget(Budget(id: "hard", selector: .all, unit: .usd, limit: 1, period: .day), now: BudgetStoreTests.now)
                let fleet = try FleetRegistry(store: store, metrics: AggregatorMetrics(), logger: Logger(label: "test"), clock: clock.serviceClock)
                fleet.receive(reportFrame: try report("a1", process: 100, [Self.count("trial", window: day, 3)]), keyName: nil, address: nil)
                fleet.receive(reportFrame: try report("a2", process: 100, [Self.count("trial", window: day, 2),
                                                                            Self.count("gone", window: day, 9)]), keyName: nil, address: nil)
                #expect(try listed(store, fleet) == ["trial": 5, "hard": 0])
                // a1 restarts: its new process has counted 1 so far.
                fleet.receive(reportFrame: try report("a1", process: 200, [Self.count("trial", window: day, 1)]), keyName: nil, address: nil)
                #expect(try listed(store, fleet) == ["trial": 6, "hard": 0])
            }
            clock.advance(by: .seconds(1))
            let store = try UsageStore(directory: directory)
            let fleet = try FleetRegistry(store: store, metrics: AggregatorMetrics(), logger: Logger(label: "test"), clock: clock.serviceClock)
            #expect(try listed(store, fleet)["trial"] == 6, "the aggregator's restart keeps what agents said, a1's earlier process included")
            // A count from the window before is not this window's.
            fleet.receive(reportFrame: try report("a2", process: 100, [Self.count("trial", window: day - 86_400, 7)]), keyName: nil, address: nil)
            #expect(try listed(store, fleet) == ["trial": 4, "hard": 0])
            // Without a fleet there is no figure, rather than a false 0.
            let router = APIRouter(store: store, metrics: AggregatorMetrics(), budgets: BudgetBoardTests.board(store, clock: clock),
                                   token: APIToken("t0ken"))
            let body = router.respond(method: .GET, uri: "/v1/budgets/trial", authorization: "Bearer t0ken").body
            #expect(try JSONDecoder().decode(BudgetView.self, from: Data(body.utf8)).wouldBlock == nil)
        }
    }
}
