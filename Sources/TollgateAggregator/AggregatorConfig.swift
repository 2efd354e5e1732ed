import TollgateCore

/// The aggregator's YAML settings; see aggregator/tollgate.example.yaml for each key.
public struct AggregatorConfig: Sendable {
    public var dataDirectory = "/var/lib/tollgate"
    /// ZeroMQ endpoint agents ship usage to.
    public var usageListen = "tcp://127.0.0.1:7600"
    /// The HTTP API the `tollgate` CLI talks to.
    public var apiListen = HostPort(host: "127.0.0.1", port: 7601)

    public init() {}

    public init(file: String) throws {
        try self.init(ConfigNode(file: file))
    }

    public init(yaml: String) throws {
        try self.init(ConfigNode(yaml: yaml, source: "inline config"))
    }

    init(_ root: ConfigNode) throws {
        try root.rejectUnknownKeys(allowed: ["data_dir", "usage_listen", "api_listen"])
        dataDirectory = try root.string("data_dir", default: dataDirectory)
        usageListen = try root.string("usage_listen", default: usageListen)
        guard usageListen.hasPrefix("tcp://") || usageListen.hasPrefix("ipc://") else {
            throw ConfigError.invalid(key: root.keyPath("usage_listen"), value: usageListen,
                                      expected: "a ZeroMQ endpoint such as tcp://127.0.0.1:7600")
        }
        apiListen = try root.hostPort("api_listen", default: apiListen)
    }
}
