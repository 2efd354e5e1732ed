import ArgumentParser
import Foundation
import TollgateCore

/// Every CLI flag that takes a time reads it with `TimeExpression`, the grammar the API
/// uses too; the error names the flag.
enum TimeArgument {
    static func parse(_ text: String, option: String, now: Date = Date()) throws -> Int64 {
        do {
            return try TimeExpression.parse(text, now: Int64(now.timeIntervalSince1970))
        } catch {
            throw ValidationError("\(option): \(error)")
        }
    }

    /// For `--help`.
    static let help = "a duration ago (30m, 24h, 7d), +2h from now, now, a date (2026-11-01, midnight UTC), an RFC 3339 time or Unix seconds"
}
