import ArgumentParser
import Foundation
import TollgateAgent
import TollgateCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a running agent's state: shipping, spool, request counts and the budgets it enforces.",
        discussion: """
        Reads the agent's admin listener (admin_listen in its config, 127.0.0.1:8788 by
        default). The same data is at /status (JSON) and /metrics (Prometheus) there.
        """)

    @OptionGroup var options: ConfigOption

    @Flag(help: "Print the raw /status JSON.")
    var json = false

    func run() async throws {
        let settings = try options.load()
        let base = "http://\(settings.adminListen)"
        let status: Data
        let metrics: String
        do {
            (status, _) = try await URLSession.shared.data(from: URL(string: base + "/status")!)
            metrics = String(decoding: try await URLSession.shared.data(from: URL(string: base + "/metrics")!).0, as: UTF8.self)
        } catch {
            throw ValidationError("cannot reach the agent's admin listener at \(base) (\(error.localizedDescription)); is `tollgate-agent run` running with this config?")
        }
        if json {
            print(String(decoding: status, as: UTF8.self), terminator: "")
            return
        }
        guard let document = try JSONSerialization.jsonObject(with: status) as? [String: Any],
              let shipper = document["shipper"] as? [String: Any] else {
            throw ValidationError("the agent answered /status with something unexpected")
        }
        func total(_ family: String) -> Int64 {
            metrics.split(separator: "\n").filter { $0.hasPrefix(family) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) }.map { Int64($0) } }.reduce(0, +)
        }
        let lastAck = (shipper["last_ack_unix_ms"] as? Int64).map { "\((Int64(Date().timeIntervalSince1970 * 1000) - $0) / 1000) s ago" } ?? "never"
        let overBound = shipper["spool_over_bound"] as? Bool == true
        print("""
            agent            \(document["agent_id"] ?? "?")
            requests         \(total("tollgate_agent_requests_total")) metered, \(total("tollgate_agent_estimated_requests_total")) estimated, \(total("tollgate_agent_unpriced_requests_total")) unpriced
            shipping         \(shipper["unacked_batches"] ?? 0) batch(es) awaiting ack, last ack \(lastAck)
            spool            \(shipper["spool_bytes"] ?? 0) bytes\(overBound ? " — OVER spool.max_bytes: the aggregator has been unreachable for long" : "")
            reconnects       \(total("tollgate_agent_reconnects_total"))
            """)
        if let problem = shipper["spool_problem"] as? String {
            print("DEGRADED         \(problem)")
        }
        printQuota(document["quota"] as? [String: Any], blocked: total("tollgate_agent_quota_blocked_total"))
    }

    /// The budgets this agent enforces, one line each, as it last heard them.
    private func printQuota(_ quota: [String: Any]?, blocked: Int64) {
        guard let quota else { return }
        let heard = (quota["last_update_ago_ms"] as? Int64).map { "last update \($0 / 1000) s ago" } ?? "no update from the aggregator yet"
        print("budgets          \(quota["enforcement"] ?? "?") mode, on_stale \(quota["on_stale"] ?? "?"), \(heard); \(blocked) request(s) refused")
        for budget in quota["budgets"] as? [[String: Any]] ?? [] {
            let unit = BudgetUnit(rawValue: budget["unit"] as? String ?? "") ?? .usd
            let spent = unit.format(budget["spent"] as? Int64 ?? 0)
            let limit = unit.format(budget["effective_limit"] as? Int64 ?? 0)
            let resets = (budget["window_end"] as? Int64).map { Date(timeIntervalSince1970: TimeInterval($0)) }.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
            print("  \(budget["budget_id"] ?? "?")  \(budget["state"] ?? "?")  \(spent) of \(limit) (\(budget["percent_used"] ?? 0) %)  per \(budget["period"] ?? "?") for \(budget["selector"] ?? "*"), resets \(resets)")
        }
    }
}
