/// An amount of money in integer nanodollars (1e-9 USD).
///
/// Every counter in Tollgate is an integer so totals add up exactly across agents,
/// restarts and replays; floating point appears nowhere between a price table and a report.
public struct Nanodollars: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public static let perDollar: Int64 = 1_000_000_000

    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static let zero = Nanodollars(0)

    public static func + (a: Nanodollars, b: Nanodollars) -> Nanodollars { Nanodollars(a.value &+ b.value) }
    public static func += (a: inout Nanodollars, b: Nanodollars) { a.value &+= b.value }
    public static func < (a: Nanodollars, b: Nanodollars) -> Bool { a.value < b.value }

    /// Exact decimal USD with nine fractional digits, e.g. `"12.000350000"`.
    public var decimalUSD: String {
        let magnitude = value.magnitude
        let whole = magnitude / UInt64(Self.perDollar)
        let fraction = String(magnitude % UInt64(Self.perDollar))
        let padded = String(repeating: "0", count: 9 - fraction.count) + fraction
        return (value < 0 ? "-" : "") + "\(whole).\(padded)"
    }

    /// For humans: `$1,234.56` (rounded to cents), `$0.0042` below a cent, `<$0.0001` below that.
    public var formatted: String {
        let magnitude = value.magnitude
        let sign = value < 0 ? "-" : ""
        if magnitude > 0 && magnitude < 50_000 { return "\(sign)<$0.0001" }
        if magnitude > 0 && magnitude < 10_000_000 {
            let tenThousandths = (magnitude + 50_000) / 100_000
            let text = String(tenThousandths)
            return "\(sign)$0.\(String(repeating: "0", count: 4 - text.count))\(text)"
        }
        let cents = (magnitude + 5_000_000) / 10_000_000
        let dollars = String(cents / 100)
        var grouped = ""
        for (index, character) in dollars.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let centText = String(cents % 100)
        return "\(sign)$\(String(grouped.reversed())).\(centText.count == 1 ? "0" : "")\(centText)"
    }

    public var description: String { formatted }
}
