import Foundation
import TestSupport
import Testing
import TollgateCore
@testable import TollgateAggregator

/// `GET /v1/export/focus` over usage written through the store: the CSV's shape, its rows
/// per day, key, model and token class, and BilledCost summing to the store's total.
@Suite struct FocusExportTests {
    static let day = ShowbackReportTests.november.startMinute

    @Test func rowsPerDayKeyModelAndClassSumToTheStore() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            var first = UsageStoreTests.cell(minute: Self.day + 5, key: "key-a", model: "gpt-4.1", requests: 3, input: 10_000, output: 2_000, cost: 35_000_000)
            first.counters.tokens.cachedInput = 4_000
            first.counters.tokens.reasoning = 500
            first.key.dimensions.team = "ml"
            first.key.dimensions.useCase = "chat, with \"quotes\""
            var later = first
            later.key.minute = Self.day + 30  // the same day: summed into the same rows
            var nextDay = UsageStoreTests.cell(minute: Self.day + 1_440 + 7, key: "key-b", model: "gpt-4o-mini", requests: 1, cost: 7)
            nextDay.counters.estimated = 1
            let outside = UsageStoreTests.cell(minute: Self.day + 3 * 1_440, key: "key-c", model: "gpt-4.1", cost: 1_000_000)
            _ = try store.apply(UsageStoreTests.batch(1, [first, later, nextDay, outside]))
            let router = BudgetAPITests.router(store, clock: ManualClock(unixSeconds: BudgetStoreTests.now))

            let response = router.respond(method: .GET, uri: "/v1/export/focus?from=2026-11-01&to=2026-11-03", authorization: BudgetAPITests.auth)
            #expect(response.status == .ok && response.contentType.hasPrefix("text/csv"), "\(response.body)")
            let header = CSVRecords.rows(response.body).first ?? []
            #expect(header == FocusColumn.allCases.map(\.rawValue))
            for required in ["BilledCost", "EffectiveCost", "ListCost", "ChargePeriodStart", "ChargePeriodEnd", "ServiceProviderName",
                             "ServiceCategory", "SkuMeter", "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags",
                             "x_ModelId", "x_TokenDirection", "x_TokenCacheAction", "x_CostSource"] {
                #expect(header.contains(required), "\(required)")
            }
            let records = CSVRecords.records(response.body)
            // key-a on day 1: input, cached_input, output, reasoning; key-b on day 2: input, output.
            #expect(records.count == 6, "\(response.body)")
            let billed = records.reduce(Int64(0)) { $0 + ((try? parseUSDToNanodollars($1["BilledCost"] ?? "")) ?? -1_000_000_000_000) }
            #expect(billed == 2 * 35_000_000 + 7, "every nanodollar in range, and nothing outside it")

            let a = records.filter { $0["ResourceId"] == "key-a" }
            #expect(a.map { $0["x_TokenClass"] ?? "" } == ["input", "cached_input", "output", "reasoning"])
            #expect(a.map { $0["ConsumedQuantity"] ?? "" } == ["12000.0", "8000.0", "3000.0", "1000.0"], "two cells summed, each token once")
            #expect(a.allSatisfy { $0["ChargePeriodStart"] == "2026-11-01T00:00:00Z" && $0["ChargePeriodEnd"] == "2026-11-02T00:00:00Z" })
            #expect(a.allSatisfy { $0["BillingPeriodStart"] == "2026-11-01T00:00:00Z" && $0["BillingPeriodEnd"] == "2026-12-01T00:00:00Z" })
            #expect(a.allSatisfy { $0["ServiceCategory"] == "AI and Machine Learning" && $0["ServiceProviderName"] == "OpenAI" })
            #expect(a.allSatisfy { $0["ChargeCategory"] == "Usage" && $0["BillingCurrency"] == "USD" && $0["x_CostSource"] == "metered" })
            #expect(a[0]["Tags"] == #"{"team":"ml","use_case":"chat, with \"quotes\""}"#)
            #expect(a[0]["PricingQuantity"] == "0.012000" && a[0]["PricingUnit"] == "1M Tokens" && a[0]["ListUnitPrice"] == "2.000000000")
            #expect(a[1]["x_TokenCacheAction"] == "read" && a[3]["x_TokenDirection"] == "output" && a[3]["SkuMeter"] == "Reasoning Tokens")
            #expect(a[0]["ResourceName"] == "hint-key-a" && a[0]["x_ModelId"] == "gpt-4.1")
            let b = records.filter { $0["ResourceId"] == "key-b" }
            #expect(b.count == 2 && b.allSatisfy { $0["x_CostSource"] == "estimated" })
            #expect(b.allSatisfy { $0["ChargePeriodStart"] == "2026-11-02T00:00:00Z" })
        }
    }

    @Test func anEmptyRangeIsTheHeaderAlone() throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            for query in ["from=2026-11-01&to=2026-11-01", "from=2026-11-01&to=2026-12-01"] {
                let response = router.respond(method: .GET, uri: "/v1/export/focus?\(query)", authorization: BudgetAPITests.auth)
                #expect(response.status == .ok)
                #expect(CSVRecords.rows(response.body).count == 1, "\(response.body)")
            }
        }
    }

    @Test(arguments: [
        ("from=2026-12-01&to=2026-11-01", "before it starts"),
        ("from=2026-11-31&to=2026-12-01", "expected a UTC date"),
        ("to=2026-12-01", "from is required"),
        ("from=2026-11-01", "to is required"),
        ("from=2026-11-01&to=2026-12-01&team=ml", "unknown parameter 'team'"),
    ])
    func badRangesAreRefused(_ query: String, _ message: String) throws {
        try withTemporaryDirectory { directory in
            let router = BudgetAPITests.router(try UsageStore(directory: directory), clock: ManualClock(unixSeconds: BudgetStoreTests.now))
            let response = router.respond(method: .GET, uri: "/v1/export/focus?\(query)", authorization: BudgetAPITests.auth)
            #expect(response.status == .badRequest)
            #expect((BudgetAPITests.object(response)["error"] as? String)?.contains(message) == true, "\(response.body)")
        }
    }
}
