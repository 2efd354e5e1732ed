import Foundation
import Testing
import TollgateCore
@testable import TollgateAggregator

/// `tollgate usage --format csv`'s layout: the JSON's names as the header, bucket first in a
/// series, `other_groups` only with top, exact decimal dollars, RFC 4180 quoting.
@Suite struct UsageCSVTests {
    static func row(_ dimensions: [UsageDimension: String], cost: Int64, bucket: String? = nil, hint: String? = nil,
                    otherGroups: Int? = nil) -> UsageRow {
        var counters = UsageCounters()
        counters.requests = 3
        counters.errors = 1
        counters.tokens = TokenUsage(input: 1_200, cachedInput: 200, cacheWrite: 50, cacheWrite1h: 10, output: 300, reasoning: 40)
        counters.cost = Nanodollars(cost)
        return UsageRow(dimensions: dimensions, keyHint: hint, counters: counters, bucket: bucket, otherGroups: otherGroups)
    }

    @Test func aPlainReport() {
        let csv = UsageCSV(dimensions: [.team, .model], series: false, top: false)
            .render([Self.row([.team: "ml", .model: "gpt-4.1"], cost: 12_000_350_000)])
        #expect(csv == """
            team,model,requests,errors,estimated,blocked,unpriced,input_tokens,cached_input_tokens,cache_write_tokens,\
            cache_write_1h_tokens,output_tokens,reasoning_tokens,cost_usd,routed,routing_savings_usd\r
            ml,gpt-4.1,3,1,0,0,0,1200,200,50,10,300,40,12.000350000,0,0.000000000\r

            """)
    }

    @Test func aSeriesWithTopAndAKey() {
        let bucket = "2026-11-02T00:00:00Z"
        let csv = UsageCSV(dimensions: [.key, .useCase], series: true, top: true).render([
            Self.row([.key: "3f2a", .useCase: "triage, nightly"], cost: 5, bucket: bucket, hint: "openai:sk-…wxyz"),
            Self.row([:], cost: 1, bucket: bucket, otherGroups: 4),
        ])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.count == 4 && lines[3] == "")
        #expect(lines[0].hasPrefix("bucket,key,use_case,key_hint,other_groups,requests,"))
        #expect(lines[1] == "2026-11-02T00:00:00Z,3f2a,\"triage, nightly\",openai:sk-…wxyz,0,3,1,0,0,0,1200,200,50,10,300,40,0.000000005,0,0.000000000")
        #expect(lines[2] == "2026-11-02T00:00:00Z,,,,4,3,1,0,0,0,1200,200,50,10,300,40,0.000000001,0,0.000000000")
    }

    /// Routed requests and what routing saved (signed: a route to a dearer model costs more).
    @Test func routingColumns() {
        var row = Self.row([.team: "ml"], cost: 1_000)
        row.counters.routed = 2
        row.counters.routingSavings = Nanodollars(-1_500_000_000)
        let lines = UsageCSV(dimensions: [.team], series: false, top: false).render([row]).components(separatedBy: "\r\n")
        #expect(lines[0].hasSuffix(",cost_usd,routed,routing_savings_usd"))
        #expect(lines[1].hasSuffix(",0.000001000,2,-1.500000000"))
    }

    /// An empty window: the header alone, so a script still finds its columns.
    @Test func anEmptyReportIsItsHeader() {
        let csv = UsageCSV(dimensions: [.team], series: true, top: false).render([])
        #expect(csv == CSV.record(UsageCSV(dimensions: [.team], series: true, top: false).header))
        #expect(csv.hasPrefix("bucket,team,requests,"))
    }
}
