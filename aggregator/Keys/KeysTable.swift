import Foundation
import TollgateAggregator
import TollgateCore

/// `tollgate keys list` as a table or CSV.
struct KeysTable {
    var keys: [KeyView]

    static let header = ["KEY", "HINT", "NAME", "OWNER", "TEAM", "PROJECT", "COST CENTER", "FIRST SEEN", "LAST SEEN", "REQUESTS (MONTH)", "SPEND (MONTH)"]

    func render() -> String {
        var lines = [Self.header]
        for key in keys {
            lines.append([String(key.keyID.prefix(8)), key.keyHint, dash(key.name), dash(key.owner), dash(key.team), dash(key.project),
                          dash(key.costCenter), Self.time(key.firstSeenUnix), Self.time(key.lastSeenUnix), String(key.monthRequests),
                          Nanodollars(key.monthCostNanousd).formatted])
        }
        return TextColumns.align(lines, numeric: { $0 >= 9 }).joined(separator: "\n")
    }

    /// RFC 4180: every field quoted when it holds a comma, a quote or a line break.
    func csv() -> String {
        let header = ["key_id", "key_hint", "name", "owner", "team", "project", "cost_center", "first_seen", "last_seen",
                      "month_requests", "month_cost_usd"]
        var rows = [header]
        for key in keys {
            rows.append([key.keyID, key.keyHint, key.name, key.owner, key.team, key.project, key.costCenter, Self.time(key.firstSeenUnix),
                         Self.time(key.lastSeenUnix), String(key.monthRequests), key.monthCostUSD])
        }
        return rows.map { $0.map(Self.quoted).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    private func dash(_ value: String) -> String { value.isEmpty ? "-" : value }

    static func time(_ unix: Int64) -> String {
        CivilDate.rfc3339(minute: unix / 60)
    }

    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
