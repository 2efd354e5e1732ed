import Foundation
import TollgateCore
import TollgateProviders
import TollgateWire

/// The aggregator's YAML settings; see aggregator/tollgate.example.yaml for each key.
public struct AggregatorConfig: Sendable {
    public var dataDirectory = "/var/lib/tollgate"
    /// ZeroMQ endpoint agents ship usage to.
    public var usageListen = "tcp://127.0.0.1:7600"
    /// ZeroMQ endpoint agents subscribe to for budget states (secured like usage_listen).
    /// Unless set, usage_listen's host with port + 2 (`QuotaChannelEndpoint`): the rule agents
    /// use to find it, so a fleet that can ship usage also hears its budgets.
    public var quotaListen: String {
        get { quotaListenSetting ?? QuotaChannelEndpoint.defaultEndpoint(usage: usageListen) ?? usageListen + "-quota" }
        set { quotaListenSetting = newValue }
    }
    private var quotaListenSetting: String?
    /// Every budget's state is re-read this often and what differs from what agents hold is
    /// published (an empty heartbeat when nothing does), besides the changes as they happen.
    public var quotaSnapshotInterval = Duration.seconds(2)
    /// A change that only moves spend waits up to this long to be merged with others into one
    /// delta; a change in what agents decide (a budget blocking) goes out at once.
    public var quotaCoalesceWindow = Duration.milliseconds(20)
    /// Spend-only deltas are spaced so that at most this many messages reach subscribers per
    /// second in all (the window grows with the fleet: 100 ms at 1,000 agents, 500 ms at 5,000 by default).
    public var quotaMaxFanoutPerSecond = 10_000
    /// Spend-only deltas that move only budgets far from their line wait this long instead
    /// (0: they go at the window like the rest); a block or a switch to leased never waits.
    public var quotaFarSpendInterval = Duration.seconds(2)
    /// libzmq I/O threads: they frame, encrypt and write both channels' traffic.
    public var zmqIOThreads = AggregatorConfig.defaultZMQIOThreads

    /// Two, or half the cores up to 8: one thread encrypting every quota update for
    /// thousands of agents was what a 5,000-agent fleet waited on (docs/BENCHMARKS.md).
    public static var defaultZMQIOThreads: Int { min(8, max(2, ProcessInfo.processInfo.activeProcessorCount / 2)) }
    /// The HTTP API the `tollgate` CLI talks to.
    public var apiListen = HostPort(host: "127.0.0.1", port: 7601)
    /// How agents are authenticated on the usage channel.
    public var usageSecurity = UsageSecurity.insecurePlaintext
    /// The bearer token file for the budget endpoints; nil means `<data_dir>/api-token`,
    /// created on first start.
    public var apiTokenFile: String?
    /// The read-only bearer token file (usage, keys, agents, budgets, reconcile: GET only);
    /// nil means `<data_dir>/api-read-token`, created on first start.
    public var apiReadTokenFile: String?
    /// Budget alerts are POSTed here as JSON (Slack-compatible `text`) when set.
    public var alertWebhookURL: URL?
    /// Attempts per alert webhook delivery, with exponential backoff between them.
    public var alertMaxAttempts = 5
    /// The models budgets may name and the names they go by (`pricing:`, as in the agent's
    /// config: give both the same files, so both ends resolve a name to the same model).
    public var models: PriceCatalog = DefaultPriceCatalog.load()
    /// Providers whose own usage and cost reports `GET /v1/reconcile` compares with Tollgate's.
    public var reconcile = ReconcileSettings()
    /// A batch numbered more than this past its agent's last applied seq is refused
    /// (`seq_too_far`), so no batch can make an agent's later batches look like duplicates.
    public var maxSeqAdvance = UsageStore.defaultMaxSeqAdvance
    /// How long minute, hour and day cells are kept (`retention:`).
    public var retention = RetentionPolicy()
    /// Leases near a budget's limit (`budgets:` in the file): on by default.
    public var leases = LeaseSettings()
    /// Spend anomalies per team, key, use case and env (`anomalies:`).
    public var anomalies = AnomalySettings()
    /// `metrics.max_spend_series`: the (provider, model, team) label sets of the spend and
    /// token counters; further teams are counted as `other` (`SpendSeries`).
    public var maxSpendSeries = SpendSeries.defaultMaxSeries

    /// How budgets near their limit are leased to agents (DESIGN.md, "Near the limit").
    public struct LeaseSettings: Sendable, Equatable {
        /// `budgets.leases: on|off`. Off, agents enforce the pushed state alone up to the
        /// limit, and the fleet can overshoot by what it spends before a block reaches it.
        public var enabled = true
        /// `budgets.lease_ttl_ms`: a slice lapses this long after the agent receives it unless topped up.
        public var ttl = Duration.seconds(5)
        /// `budgets.lease_horizon_ms`: what the fleet may spend before a change reaches every
        /// agent is burn rate × this; leases start at three times that remaining.
        public var horizon = Duration.seconds(1)

        public init() {}
    }

    public enum UsageSecurity: Sendable {
        /// CurveZMQ with this keypair; agents whose public key file (`<name>.pub`) is in the
        /// directory are admitted, re-read every few seconds so adding an agent needs no restart.
        case curve(keyPair: CurveKeyPair, authorizedKeysDirectory: String)
        /// Anyone who can reach the port may ship usage. For a lab on loopback only.
        case insecurePlaintext
    }

    public init() {}

    /// Every listener on loopback at a port the system picks (read them from
    /// `Aggregator.start()`), for an aggregator run inside a benchmark or a test.
    public static func ephemeralLoopback(dataDirectory: String) -> AggregatorConfig {
        var config = AggregatorConfig()
        config.dataDirectory = dataDirectory
        config.usageListen = "tcp://127.0.0.1:*"
        config.quotaListen = "tcp://127.0.0.1:*"
        config.apiListen = HostPort(host: "127.0.0.1", port: 0)
        return config
    }

    public init(file: String) throws {
        try self.init(ConfigNode(file: file))
    }

    public init(yaml: String) throws {
        try self.init(ConfigNode(yaml: yaml, source: "inline config"))
    }

    init(_ root: ConfigNode) throws {
        try root.rejectUnknownKeys(allowed: ["data_dir", "usage_listen", "api_listen", "curve", "insecure_plaintext", "api_token_file", "api_read_token_file", "alerts",
                                         "quota_listen", "quota_snapshot_interval_ms", "quota_coalesce_ms", "quota_max_fanout_per_second",
                                         "quota_far_spend_ms",
                                         "zmq_io_threads", "pricing", "reconcile", "max_seq_advance", "budgets",
                                         "anomalies", "metrics", "retention"])
        dataDirectory = try root.string("data_dir", default: dataDirectory)
        usageListen = try root.string("usage_listen", default: usageListen)
        guard usageListen.hasPrefix("tcp://") || usageListen.hasPrefix("ipc://") else {
            throw ConfigError.invalid(key: root.keyPath("usage_listen"), value: usageListen,
                                      expected: "a ZeroMQ endpoint such as tcp://127.0.0.1:7600")
        }
        if let text = try root.optionalString("quota_listen") {
            guard text.hasPrefix("tcp://") || text.hasPrefix("ipc://") else {
                throw ConfigError.invalid(key: root.keyPath("quota_listen"), value: text,
                                          expected: "a ZeroMQ endpoint such as tcp://127.0.0.1:7602")
            }
            quotaListen = text
        } else if QuotaChannelEndpoint.defaultEndpoint(usage: usageListen) == nil {
            throw ConfigError.missing(key: root.keyPath("quota_listen"),
                                      expected: "a ZeroMQ endpoint: usage_listen '\(usageListen)' has no port + 2 to default to")
        }
        quotaSnapshotInterval = try root.milliseconds("quota_snapshot_interval_ms", default: quotaSnapshotInterval, range: 100...600_000)
        quotaCoalesceWindow = try root.milliseconds("quota_coalesce_ms", default: quotaCoalesceWindow, range: 1...5_000)
        quotaMaxFanoutPerSecond = try root.int("quota_max_fanout_per_second", default: quotaMaxFanoutPerSecond, range: 1_000...100_000_000)
        quotaFarSpendInterval = try root.milliseconds("quota_far_spend_ms", default: quotaFarSpendInterval, range: 0...60_000)
        zmqIOThreads = try root.int("zmq_io_threads", default: zmqIOThreads, range: 1...64)
        apiListen = try root.hostPort("api_listen", default: apiListen)
        usageSecurity = try Self.usageSecurity(root)
        apiTokenFile = try root.optionalString("api_token_file")
        apiReadTokenFile = try root.optionalString("api_read_token_file")
        maxSeqAdvance = UInt64(try root.int("max_seq_advance", default: Int(maxSeqAdvance), range: 1_000...1_000_000_000_000))
        if let alerts = try root.section("alerts") {
            try alerts.rejectUnknownKeys(allowed: ["webhook_url", "max_attempts"])
            if let text = try alerts.optionalString("webhook_url") {
                guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                    throw ConfigError.invalid(key: alerts.keyPath("webhook_url"), value: text, expected: "an http:// or https:// URL, e.g. a Slack incoming webhook")
                }
                alertWebhookURL = url
            }
            alertMaxAttempts = try alerts.int("max_attempts", default: alertMaxAttempts, range: 1...20)
        }
        if let budgets = try root.section("budgets") {
            try budgets.rejectUnknownKeys(allowed: ["leases", "lease_ttl_ms", "lease_horizon_ms"])
            let mode = try budgets.string("leases", default: "on")
            switch mode {
            case "on", "true": leases.enabled = true
            case "off", "false": leases.enabled = false
            default: throw ConfigError.invalid(key: budgets.keyPath("leases"), value: mode, expected: "on or off")
            }
            leases.ttl = try budgets.milliseconds("lease_ttl_ms", default: leases.ttl, range: 500...600_000)
            leases.horizon = try budgets.milliseconds("lease_horizon_ms", default: leases.horizon, range: 10...600_000)
        }
        if let section = try root.section("anomalies") { anomalies = try AnomalySettings(section) }
        if let section = try root.section("metrics") {
            try section.rejectUnknownKeys(allowed: ["max_spend_series"])
            maxSpendSeries = try section.int("max_spend_series", default: maxSpendSeries, range: 10...100_000)
        }
        if let pricing = try root.section("pricing") { models = try DefaultPriceCatalog.load(pricing: pricing) }
        if let section = try root.section("reconcile") { reconcile = try ReconcileSettings(section) }
        if let section = try root.section("retention") { retention = try RetentionPolicy(section) }
    }

    private static func usageSecurity(_ root: ConfigNode) throws -> UsageSecurity {
        if try root.bool("insecure_plaintext", default: false) {
            guard !root.contains("curve") else {
                throw ConfigError.invalid(key: "insecure_plaintext", value: "true", expected: "false when a curve section is set (choose one)")
            }
            return .insecurePlaintext
        }
        guard let curve = try root.section("curve") else {
            throw ConfigError.missing(key: "curve", expected: "curve.secret_key_file and curve.authorized_keys_dir (make keys with `tollgate keygen`), or insecure_plaintext: true for a lab")
        }
        try curve.rejectUnknownKeys(allowed: ["secret_key_file", "authorized_keys_dir"])
        let keyFile = try curve.requiredString("secret_key_file", expected: "the aggregator's CurveZMQ secret key file (create it with `tollgate keygen`)")
        let keyPair: CurveKeyPair
        do {
            keyPair = try CurveKeyPair(secretKeyFile: keyFile)
        } catch {
            throw ConfigError.invalid(key: curve.keyPath("secret_key_file"), value: keyFile, expected: "a readable CurveZMQ secret key file (\(error))")
        }
        let directory = try curve.requiredString("authorized_keys_dir", expected: "a directory of agents' public key files, one <name>.pub per agent")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigError.invalid(key: curve.keyPath("authorized_keys_dir"), value: directory, expected: "an existing directory")
        }
        return .curve(keyPair: keyPair, authorizedKeysDirectory: directory)
    }
}
