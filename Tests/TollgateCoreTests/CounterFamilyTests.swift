import Prometheus
import TestSupport
import Testing
import TollgateCore

@Suite struct CounterFamilyTests {
    @Test func knownLabelValuesExportZeroBeforeTheirFirstEvent() {
        let registry = PrometheusCollectorRegistry()
        let family = CounterFamily(registry, name: "rejected_total", help: "Rejected, by reason.", labels: ["reason"],
                                   known: [["checksum"], ["oversized"]])
        family("checksum").increment(by: Int64(2))
        let text = MetricsText(registry.emitToString())
        #expect(text.declares("rejected_total", type: "counter"))
        #expect(text[#"rejected_total{reason="checksum"}"#] == 2)
        #expect(text[#"rejected_total{reason="oversized"}"#] == 0)
    }

    @Test func aValueSeenAtRunTimeGetsOneSeriesThatIsKept() {
        let registry = PrometheusCollectorRegistry()
        let family = CounterFamily(registry, name: "alerts_total", help: "Alerts.", labels: ["budget", "level"])
        #expect(!registry.emitToString().contains("alerts_total{"))
        family("ml-daily", "50").increment()
        family("ml-daily", "50").increment()
        #expect(family("ml-daily", "50") === family("ml-daily", "50"))
        #expect(MetricsText(registry.emitToString())[#"alerts_total{budget="ml-daily",level="50"}"#] == 2)
    }

    /// Label values come from operators (budget ids) and errors; whatever they hold, the
    /// page must stay parseable.
    @Test func labelValuesAreEscaped() {
        let registry = PrometheusCollectorRegistry()
        let family = CounterFamily(registry, name: "blocked_total", help: "Blocked.", labels: ["budget"])
        family("a\"b\\c\nd").increment()
        #expect(registry.emitToString().contains(#"blocked_total{budget="a\"b\\c\nd"} 1"#))
    }

    @Test func buildInfoCarriesTheOneVersion() {
        let registry = PrometheusCollectorRegistry()
        MetricsExposition.registerBuildInfo(in: registry, component: "agent")
        let text = MetricsText(registry.emitToString())
        #expect(text.declares("tollgate_build_info", type: "gauge"))
        #expect(text["tollgate_build_info{component=\"agent\",version=\"\(TollgateVersion.current)\"}"] == 1)
    }
}
