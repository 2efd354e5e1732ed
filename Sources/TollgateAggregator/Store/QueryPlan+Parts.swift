/// A long query's pieces in two parts of about equal work, scanned on two threads: a
/// 90-day query reads ~200 k cells, and one thread walking them was most of its time
/// (docs/BENCHMARKS.md, "Usage queries"). The same cells are read, from one snapshot, and
/// their sums added up, so the answer is the one a single scan gives; the CPU is the same.
extension QueryPlan {
    /// A day piece shorter than this is scanned whole: splitting costs a thread hand-off
    /// and a merge of the two parts' groups, more than a short scan takes.
    static let splitDays: Int64 = 14

    /// The pieces in two parts (the longest day piece cut at a day in its middle, the
    /// pieces before it with its first half, those after with its second), or in one part
    /// when no day piece spans `splitDays`.
    var parts: [[Piece]] {
        guard let index = pieces.indices.max(by: { pieces[$0].to - pieces[$0].from < pieces[$1].to - pieces[$1].from }),
              pieces[index].granularity == .day, pieces[index].to - pieces[index].from >= Self.splitDays * 1_440 else {
            return [pieces]
        }
        let piece = pieces[index]
        let middle = CellGranularity.day.start(ofMinute: piece.from + (piece.to - piece.from) / 2)
        return [Array(pieces[..<index]) + [Piece(granularity: .day, from: piece.from, to: middle)],
                [Piece(granularity: .day, from: middle, to: piece.to)] + Array(pieces[(index + 1)...])]
    }
}
