import Foundation
import Testing
import TollgateCore

/// The forecast's arithmetic: the window's average burn rate, extrapolated to its end and
/// to the limit, in exact integers.
@Suite struct BudgetForecastTests {
    @Test func spendAtAQuarterOfTheWindowProjectsFourfold() {
        let forecast = BudgetForecast(spent: 300, limit: 1_000, windowStart: 0, windowEnd: 86_400, now: 21_600)
        #expect(forecast.atWindowEnd == 1_200)
        #expect(forecast.burnPerHour == 50)
        // 1,000 at 50 an hour from midnight: 20:00.
        #expect(forecast.runsOutAt == 72_000)
        #expect(!forecast.exhausted)
    }

    @Test func reachingTheLimitExactlyAtTheEndIsNotRunningOut() {
        let forecast = BudgetForecast(spent: 250, limit: 1_000, windowStart: 0, windowEnd: 86_400, now: 21_600)
        #expect(forecast.atWindowEnd == 1_000)
        #expect(forecast.runsOutAt == nil)
        #expect(!forecast.runsOut)
    }

    @Test func aBudgetAtItsLimitHasRunOutNow() {
        let forecast = BudgetForecast(spent: 1_000, limit: 1_000, windowStart: 0, windowEnd: 86_400, now: 40_000)
        #expect(forecast.exhausted)
        #expect(forecast.runsOutAt == 40_000)
    }

    @Test func nothingSpentForecastsNothing() {
        let forecast = BudgetForecast(spent: 0, limit: 1_000, windowStart: 0, windowEnd: 86_400, now: 40_000)
        #expect(forecast.atWindowEnd == 0 && forecast.burnPerHour == 0 && forecast.runsOutAt == nil && !forecast.exhausted)
    }

    @Test func theFirstSecondsOfAWindowCountAsAMinute() {
        // 10 s in: extrapolated from one minute (cells are per minute), not 8,640-fold.
        let forecast = BudgetForecast(spent: 100, limit: 1_000_000, windowStart: 0, windowEnd: 86_400, now: 10)
        #expect(forecast.atWindowEnd == 100 * 1_440)
        // 1,000,000 at 100 a minute takes 10,000 minutes: past the day's end.
        #expect(forecast.runsOutAt == nil)
    }

    @Test func aMonthOfNanodollarsDoesNotOverflow() {
        // $10,000 spent in the first day of a 31-day month: $310,000 by its end (products past Int64).
        let month: Int64 = 31 * 86_400
        let spent: Int64 = 10_000 * Nanodollars.perDollar
        let forecast = BudgetForecast(spent: spent, limit: 500_000 * Nanodollars.perDollar, windowStart: 0, windowEnd: month, now: 86_400)
        #expect(forecast.atWindowEnd == spent * 31)
        #expect(forecast.runsOutAt == nil)
        let tight = BudgetForecast(spent: spent, limit: 100_000 * Nanodollars.perDollar, windowStart: 0, windowEnd: month, now: 86_400)
        #expect(tight.runsOutAt == Int64(864_000))
    }

    @Test func aStatusCarriesItsForecastInJSON() throws {
        let budget = Budget(id: "ml-daily", selector: try BudgetSelector(parsing: "team=ml"), unit: .usd, limit: 1_000, period: .day)
        let status = BudgetStatus.evaluate(budget: budget, exemptions: [], spent: 300, window: BudgetWindow(start: 0, end: 86_400), now: 21_600)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(status)) as? [String: Any]
        let forecast = json?["forecast"] as? [String: Any]
        #expect(forecast?["at_window_end"] as? Int == 1_200)
        #expect(forecast?["runs_out_at"] as? Int == 72_000)
        #expect(forecast?["exhausted"] as? Bool == false)
        // Still decodes (the forecast is derived, not read back).
        let decoded = try JSONDecoder().decode(BudgetStatus.self, from: JSONEncoder().encode(status))
        #expect(BudgetForecast(decoded) == BudgetForecast(status))
    }
}
