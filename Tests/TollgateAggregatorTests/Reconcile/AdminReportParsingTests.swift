import Foundation
import Testing
import TollgateCore
@testable import TollgateAggregator

/// The providers' documented report shapes, as fixture files, read into Tollgate's classes.
@Suite struct AdminReportParsingTests {
    static func fixture(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/reconcile/\(name)", withExtension: nil))
        return try Data(contentsOf: url)
    }

    @Test func openAIUsage() throws {
        let usage = try OpenAIAdminReport.readUsage(Self.fixture("openai-usage-completions.json"))
        #expect(usage == [ProviderReport.Usage(day: 1_764_892_800, model: "gpt-4o-mini", providerKeyID: "key_abc",
                                               tokens: TokenUsage(input: 1_000, cachedInput: 800, output: 500), requests: 5)])
        let page = try JSONDecoder().decode(AdminPager.PageInfo.self, from: Self.fixture("openai-usage-completions.json"))
        #expect(page.has_more && page.next_page == "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=")
    }

    @Test func openAICostsAreExactFromTheNumbersText() throws {
        let costs = try OpenAIAdminReport.readCosts(Self.fixture("openai-costs.json"))
        #expect(costs == [ProviderReport.Cost(day: 1_764_892_800, model: "gpt-4o-mini", amount: Nanodollars(60_000_000)),
                          ProviderReport.Cost(day: 1_764_892_800, model: "gpt-4o-mini", amount: Nanodollars(15_000))])
    }

    @Test func anthropicUsageSumsTheInputClasses() throws {
        let usage = try AnthropicAdminReport.readUsage(Self.fixture("anthropic-usage-report.json"))
        // input = uncached 1500 + cache read 200 + cache writes 500 (5m) + 1000 (1h)
        #expect(usage == [ProviderReport.Usage(day: 1_764_892_800, model: "claude-sonnet-4", providerKeyID: "apikey_01Rj2N8SVvo6BePZj99NhmiT",
                                               tokens: TokenUsage(input: 3_200, cachedInput: 200, cacheWrite: 1_500, output: 500), requests: nil)])
    }

    @Test func anthropicCostsAreCentsAndToolFeesKeepTheirLabel() throws {
        let costs = try AnthropicAdminReport.readCosts(Self.fixture("anthropic-cost-report.json"))
        #expect(costs == [ProviderReport.Cost(day: 1_764_892_800, model: "claude-sonnet-4", amount: Nanodollars(1_237_891_200)),
                          ProviderReport.Cost(day: 1_764_892_800, model: "web_search", amount: Nanodollars(50_000_000))])
    }

    @Test func aFieldOfTheWrongTypeIsNamed() throws {
        #expect(throws: DecodingError.self) { try AnthropicAdminReport.readUsage(Self.fixture("anthropic-usage-wrong-type.json")) }
        do {
            _ = try AnthropicAdminReport.readUsage(Self.fixture("anthropic-usage-wrong-type.json"))
        } catch {
            let text = AdminPager.describe(error)
            #expect(text.contains("uncached_input_tokens") && text.contains("wrong type"), "\(text)")
        }
    }
}
