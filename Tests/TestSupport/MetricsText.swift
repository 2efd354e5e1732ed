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

    /// Each family's name and type, from its `# TYPE` line.
    public var families: [(name: String, type: String)] {
        description.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { line in
            let words = line.split(separator: " ")
            return (String(words[2]), String(words[3]))
        }
    }

    /// What breaks the conventions every family here keeps: a family without `# HELP`, a
    /// counter whose name does not end in `_total`.
    public var conventionProblems: [String] {
        families.compactMap { family in
            if !declares(family.name, type: family.type) { return "\(family.name) has no # HELP" }
            if family.type == "counter" && !family.name.hasSuffix("_total") { return "counter \(family.name) does not end in _total" }
            return nil
        }
    }

    /// The family's `# HELP` and `# TYPE` lines are there, in that order.
    public func declares(_ family: String, type: String) -> Bool {
        let lines = description.split(separator: "\n")
        guard let help = lines.firstIndex(where: { $0.hasPrefix("# HELP \(family) ") }) else { return false }
        return lines.index(after: help) < lines.endIndex && lines[lines.index(after: help)] == "# TYPE \(family) \(type)"
    }
}
