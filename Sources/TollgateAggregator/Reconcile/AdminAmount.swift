import Foundation
import TollgateCore

/// Money as the admin APIs write it, made exact: OpenAI gives dollars as a JSON number
/// (`0.06`), Anthropic cents as a decimal string (`"123.45"` is $1.2345). Both are read as
/// decimals, never through a binary floating point, and rounded half-up once to a nanodollar.
enum AdminAmount {
    /// `text` in units of 10^-`scale` dollars… put simply: `dollars` for OpenAI, `cents` for Anthropic.
    static func nanodollars(decimal text: String, unitsPerDollar: Int64) -> Nanodollars? {
        var text = text.trimmingCharacters(in: .whitespaces)
        var negative = false
        if text.hasPrefix("-") { negative = true; text.removeFirst() }
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(text[text.index(after: e)...]), abs(value) < 40 else { return nil }
            exponent = value
            mantissa = String(text[..<e])
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !(parts[0].isEmpty && (parts.count == 1 || parts[1].isEmpty)) else { return nil }
        let digits = String(parts[0]) + (parts.count == 2 ? String(parts[1]) : "")
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count < 30 else { return nil }
        exponent -= parts.count == 2 ? parts[1].count : 0
        // value = digits × 10^exponent units; nanodollars = value × 1e9 / unitsPerDollar.
        guard var number = Int128(digits) else { return nil }
        number *= 1_000_000_000
        var divisor = Int128(unitsPerDollar)
        if exponent >= 0 {
            for _ in 0..<exponent { number *= 10 }
        } else {
            for _ in 0..<(-exponent) { divisor *= 10 }
        }
        let rounded = (number + divisor / 2) / divisor
        guard rounded <= Int128(Int64.max) else { return nil }
        return Nanodollars(negative ? -Int64(rounded) : Int64(rounded))
    }
}
