import Testing
import TollgateAggregator

/// `quota_listen` follows `usage_listen` unless set: the finding was an aggregator told
/// `usage_listen: tcp://0.0.0.0:7600` still publishing budgets on 127.0.0.1:7602, out of
/// every other host's reach, while its agents looked for them at port + 2.
@Suite struct QuotaListenConfigTests {
    @Test func byDefaultTheQuotaChannelListensBesideTheUsageChannel() throws {
        #expect(try AggregatorConfig(yaml: "insecure_plaintext: true").quotaListen == "tcp://127.0.0.1:7602")
        let fleet = try AggregatorConfig(yaml: "insecure_plaintext: true\nusage_listen: tcp://0.0.0.0:7600")
        #expect(fleet.quotaListen == "tcp://0.0.0.0:7602")
        let moved = try AggregatorConfig(yaml: "insecure_plaintext: true\nusage_listen: tcp://10.231.0.2:41000")
        #expect(moved.quotaListen == "tcp://10.231.0.2:41002")
        #expect(AggregatorConfig().quotaListen == "tcp://127.0.0.1:7602")
    }

    @Test func quotaListenOverridesTheRule() throws {
        let config = try AggregatorConfig(yaml: "insecure_plaintext: true\nusage_listen: tcp://0.0.0.0:7600\nquota_listen: tcp://10.0.0.5:9000")
        #expect(config.usageListen == "tcp://0.0.0.0:7600" && config.quotaListen == "tcp://10.0.0.5:9000")
        var built = AggregatorConfig()
        built.quotaListen = "tcp://127.0.0.1:*"
        built.usageListen = "tcp://0.0.0.0:7600"
        #expect(built.quotaListen == "tcp://127.0.0.1:*", "a set quota_listen stays set when usage_listen changes")
    }

    /// In code too: changing usage_listen moves the derived quota channel with it.
    @Test func aConfigBuiltInCodeFollowsTheRule() {
        var config = AggregatorConfig()
        config.usageListen = "tcp://0.0.0.0:7700"
        #expect(config.quotaListen == "tcp://0.0.0.0:7702")
    }

    @Test func aUsagePortWithNoPortPlusTwoNeedsAnExplicitQuotaListen() throws {
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nusage_listen: tcp://0.0.0.0:65535") } throws: { error in
            "\(error)".contains("'quota_listen'") && "\(error)".contains("65535")
        }
        let explicit = try AggregatorConfig(yaml: "insecure_plaintext: true\nusage_listen: tcp://0.0.0.0:65535\nquota_listen: tcp://0.0.0.0:65000")
        #expect(explicit.quotaListen == "tcp://0.0.0.0:65000")
        #expect { try AggregatorConfig(yaml: "insecure_plaintext: true\nquota_listen: 0.0.0.0:7602") } throws: { error in
            "\(error)".contains("'quota_listen'")
        }
    }
}
