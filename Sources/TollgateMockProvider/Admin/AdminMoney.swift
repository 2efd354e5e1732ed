/// Nanodollars written the way each admin API writes money: OpenAI as a JSON number of
/// dollars (`0.000123`), Anthropic as a decimal string of cents (`"0.0123"`). Exact: every
/// digit of the integer amount is kept, trailing zeros dropped.
enum AdminMoney {
    static func dollars(_ nanodollars: Int64) -> String { decimal(nanodollars, fractionDigits: 9) }

    static func cents(_ nanodollars: Int64) -> String { decimal(nanodollars, fractionDigits: 7) }

    private static func decimal(_ value: Int64, fractionDigits: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        let magnitude = value.magnitude
        let fraction = String(magnitude % scale)
        var digits = String(repeating: "0", count: fractionDigits - fraction.count) + fraction
        while digits.hasSuffix("0") { digits.removeLast() }
        let sign = value < 0 ? "-" : ""
        return digits.isEmpty ? "\(sign)\(magnitude / scale).0" : "\(sign)\(magnitude / scale).\(digits)"
    }
}
