import TollgateCore

/// `prices --check` for people: one line per differing price, then what was not compared.
struct PriceCheckReport {
    var check: PriceCheck
    var file: String

    func render() -> String {
        var lines: [String] = []
        if check.differences.isEmpty {
            lines.append("The active catalog agrees with \(file) on every price it states for the catalog's models.")
        } else {
            var table = TextTable(header: ["MODEL", "FIELD", "OURS", "THEIRS"], numeric: 2..<4)
            var previous = ""
            for difference in check.differences {
                table.rows.append([difference.model == previous ? "" : difference.model, difference.field, difference.ours, difference.theirs])
                previous = difference.model
            }
            let models = Set(check.differences.map(\.model)).count
            lines.append(table.render())
            lines.append("\(check.differences.count) prices differ in \(models) models (USD per million tokens; web search per 1,000 calls).")
        }
        if !check.notInFile.isEmpty {
            lines.append("Not in \(file), not compared: \(check.notInFile.joined(separator: ", ")).")
        }
        return lines.joined(separator: "\n")
    }
}
