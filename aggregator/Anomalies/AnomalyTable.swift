import Foundation
import TollgateAggregator
import TollgateCore

/// Anomalies as an aligned table: scope, value, today so far, normal, ratio, top model, top key.
struct AnomalyTable {
    var report: AnomalyReport

    func render() -> String {
        guard !report.anomalies.isEmpty else {
            return "no anomalies: no team, key, use case or env has spent \(String(format: "%g", report.ratio))× its 7-day normal "
                + "today (and at least $\(Self.trimmed(report.minSpendUSD)))"
        }
        var lines = [["SCOPE", "VALUE", "TODAY", "NORMAL", "RATIO", "TOP MODEL", "TOP KEY"]]
        for anomaly in report.anomalies {
            let value = anomaly.scope == .key ? (anomaly.keyHint.flatMap { $0.isEmpty ? nil : $0 } ?? anomaly.value) : anomaly.value
            lines.append([anomaly.scope.rawValue, value, anomaly.today.formatted, anomaly.normal.formatted,
                          anomaly.ratio.map { String(format: "%.1f×", $0) } ?? "new",
                          anomaly.topModel, anomaly.topKeyHint.isEmpty ? anomaly.topKey : anomaly.topKeyHint])
        }
        return TextColumns.align(lines, numeric: { [2, 3, 4].contains($0) }).joined(separator: "\n")
    }

    /// `5.000000000` → `5`, `0.500000000` → `0.5`.
    static func trimmed(_ decimal: String) -> String {
        guard decimal.contains(".") else { return decimal }
        var text = decimal
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
