import Foundation
import TollgateCore

extension RetentionPolicy {
    /// The `retention:` section: `minutes`, `hours`, `days`, each a duration (`36h`, `14d`,
    /// `2w`, `400d`) or `forever`. Defaults: 14d, 400d, forever.
    init(_ section: ConfigNode) throws {
        self.init()
        try section.rejectUnknownKeys(allowed: ["minutes", "hours", "days"])
        func duration(_ key: String, default value: Int64?, shortest: Int64) throws -> Int64? {
            guard let text = try section.optionalString(key) else { return value }
            let expected = "a duration such as 36h, 14d, 2w or 400d (at least \(shortest / 60)h), or forever"
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed == "forever" { return nil }
            let units: [Character: Int64] = ["h": 60, "d": 1_440, "w": 10_080]
            guard let unit = trimmed.last.flatMap({ units[$0] }), let count = Int64(trimmed.dropLast()), count > 0,
                  count <= 1_000_000 else {
                throw ConfigError.invalid(key: section.keyPath(key), value: text, expected: expected)
            }
            guard count * unit >= shortest else { throw ConfigError.invalid(key: section.keyPath(key), value: text, expected: expected) }
            return count * unit
        }
        minutes = try duration("minutes", default: minutes, shortest: Self.shortestMinutes)
        hours = try duration("hours", default: hours, shortest: Self.shortestHours)
        days = try duration("days", default: days, shortest: Self.shortestDays)
        // Retention only drops what a coarser granularity still holds.
        func atMost(_ finer: Int64?, _ coarser: Int64?) -> Bool { coarser == nil || (finer != nil && finer! <= coarser!) }
        guard atMost(minutes, hours) else {
            throw ConfigError.invalid(key: section.keyPath("minutes"), value: try section.optionalString("minutes") ?? "14d",
                                      expected: "no longer than retention.hours (minute cells are dropped only where hour cells hold them)")
        }
        guard atMost(hours, days) else {
            throw ConfigError.invalid(key: section.keyPath("hours"), value: try section.optionalString("hours") ?? "400d",
                                      expected: "no longer than retention.days (hour cells are dropped only where day cells hold them)")
        }
    }
}
