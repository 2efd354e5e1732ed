import TollgateCore

/// The three granularities usage cells are stored at. Minute cells are what agents ship;
/// hour and day cells are exact rollups of them (the same integer counters, summed by the
/// same merge operator), so a long range reads one cell per day instead of 1,440.
///
/// Key spaces, by first byte (the rest of the key is a minute cell's: the bucket's first
/// minute, big-endian with its sign bit flipped, then the dimension fields):
/// - `"c"` minute cells (`CellKeyCodec`),
/// - `"h"` hour cells, keyed by the hour's first minute,
/// - `"d"` day cells (UTC days), keyed by the day's first minute.
enum CellGranularity: Int, CaseIterable, Comparable, Sendable {
    case minute, hour, day

    var prefix: UInt8 {
        switch self {
        case .minute: CellKeyCodec.cellPrefix
        case .hour: UInt8(ascii: "h")
        case .day: UInt8(ascii: "d")
        }
    }

    /// Minutes per cell.
    var span: Int64 {
        switch self {
        case .minute: 1
        case .hour: 60
        case .day: 1_440
        }
    }

    var label: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .day: "day"
        }
    }

    /// The first minute of the cell holding `minute`.
    func start(ofMinute minute: Int64) -> Int64 {
        let quotient = minute / span
        return (minute % span != 0 && minute < 0 ? quotient - 1 : quotient) * span
    }

    /// The first minute of the first cell starting at or after `minute`.
    func ceiling(ofMinute minute: Int64) -> Int64 {
        let start = start(ofMinute: minute)
        return start == minute ? minute : start + span
    }

    /// The first key any cell of this granularity starting at `minute` can have.
    func prefix(at minute: Int64) -> [UInt8] {
        let ordered = UInt64(bitPattern: minute) ^ (1 << 63)
        return [prefix] + withUnsafeBytes(of: ordered.bigEndian, Array.init)
    }

    /// Past every key of this granularity: the end bound of a scan or a deletion.
    var end: [UInt8] { [prefix + 1] }

    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
