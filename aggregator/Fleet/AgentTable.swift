import Foundation
import TollgateAggregator

/// Agents as an aligned table with a summary line: counts by state first, so a problem
/// shows before the rows.
struct AgentTable {
    var agents: [AgentView]

    func render() -> String {
        guard !agents.isEmpty else {
            return "no agents have connected; an agent appears here once it reaches the aggregator's usage_listen"
        }
        var lines = [["NAME", "STATE", "VERSION", "ADDRESS", "LAST BATCH", "SEQ", "BACKLOG", "QUOTA", "SEEN", "REJECTED", "AGENT ID"]]
        for agent in agents {
            lines.append([
                agent.name ?? "-", agent.state.rawValue, agent.version ?? "-", agent.address ?? agent.keyName ?? "-",
                agent.lastBatchAgeMs.map { Self.age($0) + " ago" } ?? "never", String(agent.appliedSeq), Self.backlog(agent),
                Self.quota(agent), agent.lastReportAgeMs.map { Self.age($0) + " ago" } ?? "never", Self.rejected(agent),
                String(agent.agentID.prefix(8)),
            ])
        }
        let numeric: Set<Int> = [5]
        let table = TextColumns.align(lines, numeric: numeric.contains).map { $0.trimmingCharacters(in: .whitespaces) }
        return ([summary] + table).joined(separator: "\n")
    }

    /// "3 agents: 1 enforcing, 1 never_subscribed, 1 offline".
    var summary: String {
        let counts = AgentState.allCases.compactMap { state -> String? in
            let count = agents.filter { $0.state == state }.count
            return count == 0 ? nil : "\(count) \(state.rawValue)"
        }
        return "\(agents.count) agent\(agents.count == 1 ? "" : "s"): \(counts.joined(separator: ", "))"
    }

    static func backlog(_ agent: AgentView) -> String {
        guard let batches = agent.spoolBatches else { return "-" }
        let over = agent.spoolOverBound == true ? "!" : ""
        let unwritable = agent.spoolUnwritable == true ? " UNWRITABLE" : ""
        guard batches > 0 else { return "0" + over + unwritable }
        return "\(batches) (\(bytes(agent.spoolBytes ?? 0)))\(over)\(unwritable)"
    }

    /// The policies the agent could not apply (it keeps their previous version): ids, or "-".
    static func rejected(_ agent: AgentView) -> String {
        guard let rejected = agent.rejectedPolicies, !rejected.isEmpty else { return "-" }
        return rejected.map(\.policyID).joined(separator: ",")
    }

    static func quota(_ agent: AgentView) -> String {
        guard agent.lastReportUnixMs != nil else { return "-" }
        guard let age = agent.quotaAgeMs else { return "never" }
        return "v\(agent.quotaVersion ?? 0), \(Self.age(age))"
    }

    /// 850 → "0.8s", 12_000 → "12s", 300_000 → "5m", then hours and days.
    static func age(_ milliseconds: Int64) -> String {
        let seconds = milliseconds / 1_000
        switch seconds {
        case ..<10: return String(format: "%.1fs", Double(milliseconds) / 1_000)
        case ..<120: return "\(seconds)s"
        case ..<7_200: return "\(seconds / 60)m"
        case ..<172_800: return "\(seconds / 3_600)h"
        default: return "\(seconds / 86_400)d"
        }
    }

    /// 1_234_567 → "1.2 MiB".
    static func bytes(_ count: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, suffix) in units where count >= size {
            return String(format: "%.1f", Double(count) / Double(size)) + " " + suffix
        }
        return "\(count) B"
    }
}
