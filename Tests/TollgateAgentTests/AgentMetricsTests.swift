import TestSupport
import Testing
@testable import TollgateAgent
import TollgateProviders

@Suite struct AgentMetricsTests {
    /// What an operator alerts on must be there before it first happens.
    @Test func seriesAnOperatorAlertsOnExistAtZeroFromStart() {
        let text = MetricsText(AgentMetrics().exposition())
        for series in [
            #"tollgate_agent_rejected_requests_total{reason="header_timeout"}"#,
            #"tollgate_agent_usage_problems_total{reason="usage_missing"}"#,
            #"tollgate_agent_connect_total{outcome="unreachable"}"#,
            #"tollgate_agent_quota_rejected_total{reason="checksum"}"#,
            #"tollgate_agent_requests_total{provider="gemini",endpoint="streamGenerateContent"}"#,
            #"tollgate_agent_request_duration_seconds_count{provider="none"}"#,
            "tollgate_agent_upstream_failures_total", "tollgate_agent_unpriced_requests_total",
            "tollgate_agent_ring_full_waits_total", "tollgate_agent_spool_write_errors_total", "tollgate_agent_spool_over_bound",
        ] {
            #expect(text[series] == 0, "\(series)")
        }
    }

    @Test func everyFamilyHasHelpAndEveryCounterEndsInTotal() {
        let page = MetricsText(AgentMetrics().exposition())
        #expect(page.families.count > 40)
        #expect(page.conventionProblems == [])
        #expect(page.families.contains { $0 == ("tollgate_agent_ring_full_waits_total", "counter") }, "a running total is a counter")
    }

    @Test func handlesCountWhatTheirCallSitesDo() {
        let metrics = AgentMetrics()
        metrics.requests(.openai, .chatCompletions).increment()
        metrics.requestDuration(.openai).record(0.003)
        metrics.requestDuration(nil).record(0.5)
        metrics.quotaBlocked("team-ml").increment()
        metrics.usageProblems(TapProblem.truncatedStream.rawValue).increment()
        let text = MetricsText(metrics.exposition())
        #expect(text[#"tollgate_agent_requests_total{provider="openai",endpoint="chat.completions"}"#] == 1)
        #expect(text[#"tollgate_agent_request_duration_seconds_bucket{provider="openai",le="0.0025"}"#] == 0)
        #expect(text[#"tollgate_agent_request_duration_seconds_bucket{provider="openai",le="0.005"}"#] == 1)
        #expect(text[#"tollgate_agent_request_duration_seconds_count{provider="none"}"#] == 1)
        #expect(text[#"tollgate_agent_quota_blocked_total{budget="team-ml"}"#] == 1)
        #expect(text[#"tollgate_agent_usage_problems_total{reason="truncated_stream"}"#] == 1)
    }

    @Test(.enabled(if: Promtool.path != nil, "\(Promtool.missing)"))
    func promtoolFindsNothingToSay() throws {
        let metrics = AgentMetrics()
        metrics.quotaWouldBlock("stale").increment()
        metrics.requestDuration(.anthropic).record(1.5)
        let problems = try Promtool.problems(in: metrics.exposition())
        #expect(problems == nil, "\(problems ?? "")")
    }
}
