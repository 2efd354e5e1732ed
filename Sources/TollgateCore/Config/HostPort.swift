/// A `host:port` to listen on or connect to, validated when config is read.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:8787`, `[::1]:8787` or `localhost:8787`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension ConfigNode {
    public func hostPort(_ key: String, default defaultValue: HostPort) throws -> HostPort {
        guard let text = try optionalString(key) else { return defaultValue }
        guard let value = HostPort(text) else {
            throw ConfigError.invalid(key: keyPath(key), value: text, expected: "host:port, e.g. 127.0.0.1:8787")
        }
        return value
    }
}
