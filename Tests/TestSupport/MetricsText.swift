/// A `/metrics` page as tests read it: the value of a series, spelled as it is exposed
/// (`name` or `name{label="value",…}`, labels in the order the family declares them).
public struct MetricsText: CustomStringConvertible {
    public let description: String

    public init(_ text: String) {
        description = text
    }

    /// The series' value, or nil when the page has no such series.
    public subscript(_ series: String) -> Double? {
        for line in description.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// The family's `# HELP` and `# TYPE` lines are there, in that order.
    public func declares(_ family: String, type: String) -> Bool {
        let lines = description.split(separator: "\n")
        guard let help = lines.firstIndex(where: { $0.hasPrefix("# HELP \(family) ") }) else { return false }
        return lines.index(after: help) < lines.endIndex && lines[lines.index(after: help)] == "# TYPE \(family) \(type)"
    }
}
