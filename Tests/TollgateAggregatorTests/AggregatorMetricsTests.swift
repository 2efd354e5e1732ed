import TestSupport
import Testing
@testable import TollgateAggregator

@Suite struct AggregatorMetricsTests {
    @Test func seriesAnOperatorAlertsOnExistAtZeroFromStart() {
        let text = MetricsText(AggregatorMetrics().exposition())
        for series in [
            #"tollgate_ingest_rejected_total{reason="unauthenticated"}"#, #"tollgate_ingest_rejected_total{reason="corrupt_payload"}"#,
            "tollgate_ingest_store_errors_total", "tollgate_ingest_batches_gap_total", "tollgate_ingest_auth_rejected_total",
            "tollgate_quota_publish_errors_total", "tollgate_alert_webhook_abandoned_total", "tollgate_api_errors_total",
        ] {
            #expect(text[series] == 0, "\(series)")
        }
    }

    @Test func everyFamilyHasHelpAndEveryCounterEndsInTotal() {
        let page = MetricsText(AggregatorMetrics().exposition())
        #expect(page.families.count > 20)
        #expect(page.conventionProblems == [])
    }

    @Test(.enabled(if: Promtool.path != nil, "\(Promtool.missing)"))
    func promtoolFindsNothingToSay() throws {
        let metrics = AggregatorMetrics()
        metrics.budgetAlerts("ml-daily", "100").increment()
        let problems = try Promtool.problems(in: metrics.exposition())
        #expect(problems == nil, "\(problems ?? "")")
    }
}
