import TollgateCore

/// The on-disk layout of budgets, beside `CellKeyCodec`'s cells (`c`) and agent seqs (`a`).
///
/// Key spaces, by first byte (each different from `c`, so a cell time-range scan, which
/// never leaves keys starting with `c`, cannot see them):
/// - `"b"` + budget id → the `Budget` as JSON.
/// - `"e"` + budget id + 0x00 + created_at (8 bytes) + 8 random bytes → a `BudgetExemption` as JSON.
/// - `"s"` + budget id + 0x00 + window start (8 bytes) → spend in the window, Int64 little-endian.
/// - `"n"` + budget id + 0x00 + window start (8 bytes) + level (4 bytes) → when that alert fired.
///
/// Ids never contain 0x00 (`Budget.validateID`), so `id + 0x00` prefixes one budget's keys
/// exactly (`ml` does not catch `ml2`). Times are big-endian with the sign bit flipped, as
/// in cell keys, so keys sort by time.
enum BudgetKeyCodec {
    static let budgetPrefix = UInt8(ascii: "b")
    static let exemptionPrefix = UInt8(ascii: "e")
    static let spendPrefix = UInt8(ascii: "s")
    static let alertPrefix = UInt8(ascii: "n")

    static func budgetKey(_ id: String) -> [UInt8] { [budgetPrefix] + Array(id.utf8) }

    static func exemptionKey(_ exemption: BudgetExemption, nonce: UInt64) -> [UInt8] {
        owned(exemptionPrefix, exemption.budgetID) + ordered(exemption.createdAt) + ordered(Int64(bitPattern: nonce))
    }

    static func spendKey(_ id: String, windowStart: Int64) -> [UInt8] {
        owned(spendPrefix, id) + ordered(windowStart)
    }

    static func alertKey(_ id: String, windowStart: Int64, level: Int) -> [UInt8] {
        var key = owned(alertPrefix, id) + ordered(windowStart)
        let level = UInt32(truncatingIfNeeded: level)
        for shift in stride(from: 24, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: level >> UInt32(shift))) }
        return key
    }

    /// Every key of `id` in one key space: scan bounds [lower, upper).
    static func range(_ prefix: UInt8, _ id: String) -> (lower: [UInt8], upper: [UInt8]) {
        let lower = owned(prefix, id)
        var upper = lower
        upper[upper.count - 1] = 0x01
        return (lower, upper)
    }

    /// Every key of one key space.
    static func range(_ prefix: UInt8) -> (lower: [UInt8], upper: [UInt8]) { ([prefix], [prefix + 1]) }

    static func budgetID(fromBudgetKey key: [UInt8]) -> String { String(decoding: key.dropFirst(), as: UTF8.self) }

    static func encodeAmount(_ value: Int64) -> [UInt8] {
        let bits = UInt64(bitPattern: value)
        return (0..<8).map { UInt8(truncatingIfNeeded: bits >> UInt64($0 * 8)) }
    }

    static func decodeAmount(_ bytes: [UInt8], key: [UInt8]) throws -> Int64 {
        guard bytes.count == 8 else {
            throw StoreError.corruptValue(reason: "a budget amount is 8 bytes, found \(bytes.count)", key: key)
        }
        return Int64(bitPattern: bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }

    private static func owned(_ prefix: UInt8, _ id: String) -> [UInt8] { [prefix] + Array(id.utf8) + [0] }

    private static func ordered(_ value: Int64) -> [UInt8] {
        let bits = UInt64(bitPattern: value) ^ (1 << 63)
        return stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: bits >> UInt64($0)) }
    }
}
