import Testing
import TollgateCore

/// The one rule both sides use to place the quota channel beside the usage channel.
@Suite struct QuotaChannelEndpointTests {
    @Test(arguments: [
        ("tcp://127.0.0.1:7600", "tcp://127.0.0.1:7602"),
        ("tcp://0.0.0.0:7600", "tcp://0.0.0.0:7602"),
        ("tcp://10.231.0.2:41000", "tcp://10.231.0.2:41002"),
        ("tcp://aggregator.internal:7600", "tcp://aggregator.internal:7602"),
        ("tcp://[::1]:7600", "tcp://[::1]:7602"),
        ("tcp://eth0:9000", "tcp://eth0:9002"),
        ("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"),
        ("tcp://127.0.0.1:65533", "tcp://127.0.0.1:65535"),
        ("ipc:///run/tollgate/usage", "ipc:///run/tollgate/usage-quota"),
    ])
    func theQuotaChannelIsTheUsageHostAtPortPlusTwo(usage: String, quota: String) {
        #expect(QuotaChannelEndpoint.defaultEndpoint(usage: usage) == quota)
    }

    /// Where the rule gives no endpoint, configs must name one (both refuse to guess).
    @Test(arguments: ["tcp://127.0.0.1:65534", "tcp://127.0.0.1:65535", "tcp://127.0.0.1", "tcp://[::1]", "tcp://:7600",
                      "tcp://127.0.0.1:x", "udp://127.0.0.1:7600"])
    func noDefaultWithoutAPortPlusTwo(usage: String) {
        #expect(QuotaChannelEndpoint.defaultEndpoint(usage: usage) == nil)
    }
}
