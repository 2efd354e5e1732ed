/// Where the quota channel is when nobody says: one rule, used by the aggregator to bind
/// it (`quota_listen`) and by every agent to find it (`quota.endpoint`), so the two cannot
/// drift apart. It is the usage endpoint's host with its port + 2: an aggregator told
/// `usage_listen: tcp://0.0.0.0:7600` publishes budgets on `tcp://0.0.0.0:7602`, and an agent
/// shipping to `tcp://10.0.0.5:7600` subscribes at `tcp://10.0.0.5:7602`. The quota channel
/// is then reachable wherever the usage channel is, which is what a fleet needs: an agent
/// that ships usage but never hears a budget enforces nothing, silently.
public enum QuotaChannelEndpoint {
    /// The default quota endpoint for a ZeroMQ usage endpoint, or nil when the rule gives
    /// none (the usage port is 65534 or 65535, or has no port): then it must be configured.
    /// - `tcp://host:port` → `tcp://host:port+2` (IPv6 hosts in brackets keep them);
    /// - `tcp://host:*` (a port the system picks) → `tcp://host:*`, bound separately;
    /// - `ipc://path` → `ipc://path-quota`.
    public static func defaultEndpoint(usage: String) -> String? {
        if usage.hasPrefix("ipc://") { return usage + "-quota" }
        guard usage.hasPrefix("tcp://"), let colon = usage.lastIndex(of: ":") else { return nil }
        let host = usage[..<colon]
        guard host.count > "tcp://".count else { return nil }
        let port = usage[usage.index(after: colon)...]
        if port == "*" { return usage }
        guard let number = Int(port), (1...65533).contains(number) else { return nil }
        return "\(host):\(number + 2)"
    }
}
