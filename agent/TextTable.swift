/// Left-aligned text columns and right-aligned numbers, two spaces apart: how the agent's
/// commands print tables for people.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// The columns that hold numbers, aligned right.
    var numeric: Range<Int>

    func render() -> String {
        let lines = [header] + rows
        let widths = header.indices.map { column in lines.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").trailingSpacesRemoved
        }.joined(separator: "\n")
    }
}

private extension String {
    var trailingSpacesRemoved: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
