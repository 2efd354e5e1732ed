import ArgumentParser
import Foundation

/// `--until`/`--from`: an ISO 8601 time (2026-11-24T00:00:00Z), a Unix time, or a duration from now (+24h).
enum TimeArgument {
    static func parse(_ text: String, option: String, now: Date) throws -> Int64 {
        if text.hasPrefix("+") {
            let units: [Character: Int64] = ["m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
            if let unit = text.last, let seconds = units[unit], let count = Int64(text.dropFirst().dropLast()), count >= 0 {
                return Int64(now.timeIntervalSince1970) + count * seconds
            }
        } else if let unix = Int64(text) {
            return unix
        } else if let date = ISO8601DateFormatter().date(from: text) {
            return Int64(date.timeIntervalSince1970)
        }
        throw ValidationError("\(option) '\(text)': expected an ISO 8601 time like 2026-11-24T00:00:00Z, a Unix time, or +24h / +7d from now")
    }
}
