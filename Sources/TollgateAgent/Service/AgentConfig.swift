import Foundation
import TollgateCore
import TollgateProviders
import TollgateWire

/// Everything the agent is told by its YAML file. Every key has a documented default
/// (see agent/tollgate-agent.example.yaml) except the org secret, which must be shared
/// fleet-wide and so cannot be invented locally.
public struct AgentConfig: Sendable {
    public var listen = HostPort(host: "127.0.0.1", port: 8787)
    /// `/healthz`, `/metrics` and `/status`; loopback unless configured otherwise.
    public var adminListen = HostPort(host: "127.0.0.1", port: 8788)
    /// How long SIGTERM waits for in-flight requests before closing them.
    public var drainTimeout = Duration.seconds(10)
    public var stateDirectory = "/var/lib/tollgate-agent"
    /// The HMAC key that turns API keys into `key_id`s; identical on every agent.
    public var orgSecret: [UInt8] = []
    public var upstreams = Upstreams()
    public var aggregatorEndpoint = "tcp://127.0.0.1:7600"
    public var aggregatorSecurity = AggregatorSecurity.insecurePlaintext
    public var flushInterval = Duration.milliseconds(250)
    /// A batch is cut early once it holds this many cells.
    public var maxBatchCells = 50_000
    /// Slots in the ring between the event loops and the shipper (about 250 bytes each,
    /// touched as they are first used). The shipper drains it every 10 ms, so this absorbs
    /// a shipper stall of ring_capacity / request rate before event loops wait for room.
    public var ringCapacity = 8192
    /// Above this, never-sent spooled batches are merged; past it even then, the agent warns.
    public var spoolMaxBytes = 256 << 20
    /// While the spool refuses writes (disk full): keep proxying with usage held in memory
    /// (`allow`), or refuse metered requests with a provider-shaped 503 (`deny`).
    public var onSpoolFull = SpoolFullPolicy.allow
    /// Memory for usage the spool could not take; past it, `allow` drops usage (counted).
    public var spoolMaxHeldBytes = 64 << 20
    /// Spool segments roll over at this size.
    public var spoolSegmentBytes = 8 << 20

    public enum SpoolFullPolicy: String, Sendable {
        case allow, deny
    }
    public var maxRequestBodyBytes = 32 << 20
    public var connectTimeout = Duration.seconds(10)
    /// A client must finish sending a request head within this (slowloris defence).
    public var headerTimeout = Duration.seconds(10)
    /// Once a request head is in, its body must keep arriving: a pause this long gets 408.
    public var bodyIdleTimeout = Duration.seconds(10)
    /// A request must be complete (its whole body in) within this of its head, or 408. The
    /// upload only: a response, however long it streams, is not timed by this.
    public var requestTimeout = Duration.seconds(60)
    /// Client connections open at once; more are answered 503 and closed.
    public var maxConnections = 1024
    /// Request body bytes buffered across all connections at once (bodies are collected
    /// whole before forwarding); a body that would go over gets 503 with retry-after.
    public var maxBufferedBytes = 128 << 20
    /// A keep-alive client connection with no request in flight is closed after this.
    public var clientIdleTimeout = Duration.seconds(60)
    /// A provider that sends nothing for this long mid-response is given up on.
    public var upstreamIdleTimeout = Duration.seconds(300)
    public var prices: PriceCatalog = DefaultPriceCatalog.load()
    /// This host's default attribution (team, environment…), overridable per request.
    public var attribution = Attribution()
    /// HTTPS_PROXY / HTTP_PROXY handling: which hosts are intercepted and metered.
    public var intercept = InterceptPolicy()
    /// The aggregator's quota channel; by default its usage endpoint's port + 2.
    public var quotaEndpoint: String?
    var quota = QuotaGate.Settings()
    /// How this agent appears in `tollgate agents` (`fleet.name`); the host name by default.
    public var fleetName = AgentConfig.hostName
    /// How often the agent reports its state to the aggregator (`fleet.report_interval_ms`);
    /// three intervals of silence and the aggregator lists it offline.
    public var reportInterval = Duration.seconds(5)

    /// Where budget updates come from: `quota.endpoint`, else the usage endpoint's host with
    /// port + 2 (`QuotaChannelEndpoint`, the rule the aggregator binds by: 7600 → 7602).
    public var resolvedQuotaEndpoint: String {
        quotaEndpoint ?? QuotaChannelEndpoint.defaultEndpoint(usage: aggregatorEndpoint) ?? aggregatorEndpoint + "-quota"
    }

    /// The local CA that signs intercepted hosts' certificates (`tollgate-agent ca init`).
    public var certificateAuthorityDirectory: String { CertificateAuthority.directory(stateDirectory: stateDirectory) }

    /// How the agent proves itself to the aggregator on the usage channel.
    public enum AggregatorSecurity: Sendable, Equatable {
        /// CurveZMQ: the aggregator's public key, and this agent's secret key file (created
        /// with mode 0600 on first start; `tollgate-agent key` prints its public half).
        case curve(serverPublicKey: String, secretKeyFile: String)
        /// No encryption or authentication. For a lab on loopback only.
        case insecurePlaintext
    }

    /// Where the agent keeps its CurveZMQ secret key unless configured otherwise.
    public var defaultSecretKeyFile: String { (stateDirectory as NSString).appendingPathComponent("agent.key") }

    /// Where each provider really is; base-URL routes (`/openai/…`) forward here.
    public struct Upstreams: Sendable {
        public var openai = UpstreamURL(scheme: "https", host: "api.openai.com", port: 443, basePath: "")
        public var anthropic = UpstreamURL(scheme: "https", host: "api.anthropic.com", port: 443, basePath: "")
        public var gemini = UpstreamURL(scheme: "https", host: "generativelanguage.googleapis.com", port: 443, basePath: "")
        /// Azure OpenAI lives on a per-resource host, so it has no default.
        public var azure: UpstreamURL?
    }

    public init() {}

    public init(file: String) throws {
        try self.init(ConfigNode(file: file))
    }

    public init(yaml: String) throws {
        try self.init(ConfigNode(yaml: yaml, source: "inline config"))
    }

    init(_ root: ConfigNode) throws {
        try root.rejectUnknownKeys(allowed: ["listen", "admin_listen", "drain_timeout_ms", "state_dir", "org_secret_file", "upstreams", "aggregator", "meter", "spool", "limits", "pricing", "attribution", "intercept", "quota", "fleet"])
        listen = try root.hostPort("listen", default: listen)
        adminListen = try root.hostPort("admin_listen", default: adminListen)
        drainTimeout = try root.milliseconds("drain_timeout_ms", default: drainTimeout, range: 0...600_000)
        stateDirectory = try root.string("state_dir", default: stateDirectory)
        let secretFile = try root.requiredString(
            "org_secret_file",
            expected: "the path of the org-wide secret used to hash API keys (create one with: head -c 32 /dev/urandom | base64 > org-secret)")
        orgSecret = try Self.readSecret(secretFile, key: root.keyPath("org_secret_file"))

        if let section = try root.section("upstreams") {
            try section.rejectUnknownKeys(allowed: ["openai", "anthropic", "gemini", "azure"])
            func url(_ key: String) throws -> UpstreamURL? {
                guard let text = try section.optionalString(key) else { return nil }
                guard let url = UpstreamURL(text) else {
                    throw ConfigError.invalid(key: section.keyPath(key), value: text, expected: "an http:// or https:// URL such as https://api.openai.com")
                }
                return url
            }
            upstreams.openai = try url("openai") ?? upstreams.openai
            upstreams.anthropic = try url("anthropic") ?? upstreams.anthropic
            upstreams.gemini = try url("gemini") ?? upstreams.gemini
            upstreams.azure = try url("azure")
        }
        if let section = try root.section("aggregator") {
            try section.rejectUnknownKeys(allowed: ["endpoint", "server_public_key_file", "secret_key_file", "insecure_plaintext"])
            aggregatorEndpoint = try section.string("endpoint", default: aggregatorEndpoint)
            guard aggregatorEndpoint.hasPrefix("tcp://") || aggregatorEndpoint.hasPrefix("ipc://") else {
                throw ConfigError.invalid(key: section.keyPath("endpoint"), value: aggregatorEndpoint, expected: "a ZeroMQ endpoint such as tcp://127.0.0.1:7600")
            }
        }
        aggregatorSecurity = try Self.aggregatorSecurity(try root.section("aggregator"), defaultSecretKeyFile: defaultSecretKeyFile)
        attribution = try Attribution(try root.section("attribution"))
        intercept = try InterceptPolicy(try root.section("intercept"))
        if let section = try root.section("quota") {
            try section.rejectUnknownKeys(allowed: ["endpoint", "enforcement", "on_stale", "stale_after_ms", "default_max_output_tokens", "first_snapshot_timeout_ms"])
            quotaEndpoint = try section.optionalString("endpoint")
            if let endpoint = quotaEndpoint, !(endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("ipc://")) {
                throw ConfigError.invalid(key: section.keyPath("endpoint"), value: endpoint, expected: "a ZeroMQ endpoint such as tcp://127.0.0.1:7602")
            }
            let enforcement = try section.string("enforcement", default: quota.enforcement.rawValue)
            guard let mode = QuotaGate.Enforcement(rawValue: enforcement) else {
                throw ConfigError.invalid(key: section.keyPath("enforcement"), value: enforcement, expected: "enforce or observe")
            }
            quota.enforcement = mode
            let onStale = try section.string("on_stale", default: quota.onStale.rawValue)
            guard let stale = QuotaGate.OnStale(rawValue: onStale) else {
                throw ConfigError.invalid(key: section.keyPath("on_stale"), value: onStale, expected: "allow or deny")
            }
            quota.onStale = stale
            quota.staleAfter = try section.milliseconds("stale_after_ms", default: quota.staleAfter, range: 1_000...86_400_000)
            quota.defaultMaxOutputTokens = try section.int("default_max_output_tokens", default: quota.defaultMaxOutputTokens, range: 1...10_000_000)
            quota.firstSnapshotTimeout = try section.milliseconds("first_snapshot_timeout_ms", default: quota.firstSnapshotTimeout, range: 100...3_600_000)
        }
        if quotaEndpoint == nil, QuotaChannelEndpoint.defaultEndpoint(usage: aggregatorEndpoint) == nil {
            throw ConfigError.missing(key: "quota.endpoint",
                                      expected: "the aggregator's quota_listen: aggregator.endpoint '\(aggregatorEndpoint)' has no port + 2 to default to")
        }
        if let section = try root.section("fleet") {
            try section.rejectUnknownKeys(allowed: ["name", "report_interval_ms"])
            fleetName = try section.string("name", default: fleetName)
            guard !fleetName.isEmpty, fleetName.utf8.count <= 255, !fleetName.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw ConfigError.invalid(key: section.keyPath("name"), value: fleetName, expected: "a printable name of 1 to 255 bytes, such as ci-runner-7")
            }
            reportInterval = try section.milliseconds("report_interval_ms", default: reportInterval, range: 100...600_000)
        }
        if let section = try root.section("meter") {
            try section.rejectUnknownKeys(allowed: ["flush_interval_ms", "max_batch_cells", "ring_capacity"])
            flushInterval = try section.milliseconds("flush_interval_ms", default: flushInterval, range: 10...60_000)
            maxBatchCells = try section.int("max_batch_cells", default: maxBatchCells, range: 1...1_000_000)
            ringCapacity = try section.int("ring_capacity", default: ringCapacity, range: 64...(1 << 22))
        }
        if let section = try root.section("spool") {
            try section.rejectUnknownKeys(allowed: ["max_bytes", "on_full", "max_held_bytes", "segment_bytes"])
            spoolMaxBytes = try section.int("max_bytes", default: spoolMaxBytes, range: 1...(1 << 40))
            let onFull = try section.string("on_full", default: onSpoolFull.rawValue)
            guard let policy = SpoolFullPolicy(rawValue: onFull) else {
                throw ConfigError.invalid(key: section.keyPath("on_full"), value: onFull, expected: "allow or deny")
            }
            onSpoolFull = policy
            spoolMaxHeldBytes = try section.int("max_held_bytes", default: spoolMaxHeldBytes, range: 0...(1 << 40))
            spoolSegmentBytes = try section.int("segment_bytes", default: spoolSegmentBytes, range: 4096...(1 << 30))
        }
        if let section = try root.section("limits") {
            try section.rejectUnknownKeys(allowed: ["max_request_body_bytes", "connect_timeout_ms", "header_timeout_ms",
                                                    "client_idle_timeout_ms", "upstream_idle_timeout_ms", "body_idle_timeout_ms",
                                                    "request_timeout_ms", "max_connections", "max_buffered_bytes"])
            maxRequestBodyBytes = try section.int("max_request_body_bytes", default: maxRequestBodyBytes, range: 1024...(1 << 30))
            connectTimeout = try section.milliseconds("connect_timeout_ms", default: connectTimeout, range: 100...120_000)
            headerTimeout = try section.milliseconds("header_timeout_ms", default: headerTimeout, range: 100...600_000)
            clientIdleTimeout = try section.milliseconds("client_idle_timeout_ms", default: clientIdleTimeout, range: 100...3_600_000)
            upstreamIdleTimeout = try section.milliseconds("upstream_idle_timeout_ms", default: upstreamIdleTimeout, range: 100...3_600_000)
            bodyIdleTimeout = try section.milliseconds("body_idle_timeout_ms", default: bodyIdleTimeout, range: 100...600_000)
            requestTimeout = try section.milliseconds("request_timeout_ms", default: requestTimeout, range: 100...3_600_000)
            maxConnections = try section.int("max_connections", default: maxConnections, range: 1...1_000_000)
            maxBufferedBytes = try section.int("max_buffered_bytes", default: maxBufferedBytes, range: 1024...(1 << 40))
        }
        // Built-in, then LiteLLM's community file, then this deployment's own overrides.
        prices = try PricingConfig.catalog(from: root)
    }

    /// The kernel's host name (gethostname, no DNS lookup), or "unnamed" if it has none.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unnamed" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "unnamed" : name
    }

    private static func aggregatorSecurity(_ section: ConfigNode?, defaultSecretKeyFile: String) throws -> AggregatorSecurity {
        if try section?.bool("insecure_plaintext", default: false) == true { return .insecurePlaintext }
        guard let section, let keyFile = try section.optionalString("server_public_key_file") else {
            throw ConfigError.missing(
                key: "aggregator.server_public_key_file",
                expected: "the aggregator's CurveZMQ public key file (from `tollgate keygen`), or aggregator.insecure_plaintext: true for a lab")
        }
        let serverKey: String
        do {
            serverKey = try CurveKeyPair.readPublicKey(file: keyFile)
        } catch {
            throw ConfigError.invalid(key: section.keyPath("server_public_key_file"), value: keyFile, expected: "a readable CurveZMQ public key file (\(error))")
        }
        return .curve(serverPublicKey: serverKey, secretKeyFile: try section.string("secret_key_file", default: defaultSecretKeyFile))
    }

    private static func readSecret(_ path: String, key: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.invalid(key: key, value: path, expected: "a readable file holding the org secret")
        }
        let secret = Array(data).trimmingWhitespace()
        guard secret.count >= 16 else {
            throw ConfigError.invalid(key: key, value: path, expected: "a secret of at least 16 bytes (head -c 32 /dev/urandom | base64)")
        }
        return secret
    }
}

/// Where a provider lives: scheme, host, port and an optional path prefix.
public struct UpstreamURL: Hashable, Sendable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int
    public var basePath: String

    public var usesTLS: Bool { scheme == "https" }

    public init(scheme: String, host: String, port: Int, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    public init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              components.query == nil else { return nil }
        var basePath = components.path
        while basePath.hasSuffix("/") { basePath.removeLast() }
        self.init(scheme: scheme, host: host, port: components.port ?? (scheme == "https" ? 443 : 80), basePath: basePath)
    }

    /// The value for the `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let defaultPort = usesTLS ? 443 : 80
        return port == defaultPort ? host : "\(host):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(basePath)" }
}

extension Array where Element == UInt8 {
    func trimmingWhitespace() -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(self[first...last])
    }
}
