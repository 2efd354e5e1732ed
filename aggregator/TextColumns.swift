/// Aligns the `tollgate` CLI's tables for people: text columns left, the `numeric` ones
/// right, two spaces apart. Each table type builds its cells; this is the one place they
/// are padded.
enum TextColumns {
    static func align(_ lines: [[String]], numeric: (Int) -> Bool) -> [String] {
        guard let first = lines.first else { return [] }
        let widths = first.indices.map { column in lines.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return numeric(column) ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }
    }
}
