import TollgateCore

extension UsageStore {
    /// Several `query`s answered at one instant, each exactly as `query` answers it (the
    /// same `QueryPlan` pieces, the same folding and order), read through one iterator.
    ///
    /// Why: every RocksDB iterator sorts a copy of the vector memtable, and the anomaly scan
    /// reads 8 windows (today, and the same span of the 7 days before) of up to 3 pieces
    /// each. Read one `query` at a time, that was ~20 sorts of up to 64 MiB per scan, and
    /// the scan 14–23 % of the aggregator's CPU with a busy memtable (docs/BENCHMARKS.md,
    /// "Where the time goes at 5,000 agents"). Complete hours are read from hour cells
    /// there already (`QueryPlan`); what is left of the cost was the sorts.
    func query(windows: [(range: Range<Int64>, groupBy: [TollgateCore.UsageDimension])]) throws -> [[UsageGroup]] {
        let (state, snapshot) = try rollup.withLockedValue { state in (state, try db.snapshot()) }
        var folders = windows.map { CellFolder(groupBy: $0.groupBy, filters: [], every: nil) }
        defer { for folder in folders { folder.deallocate() } }
        var ranges: [(from: [UInt8], to: [UInt8])] = []
        var owners: [Int] = []
        for (index, window) in windows.enumerated() where window.range.lowerBound < window.range.upperBound {
            // As in `query`: whole-history bounds would overflow when rounded to hours.
            let from = max(window.range.lowerBound, -(1 << 60)), to = min(window.range.upperBound, 1 << 60)
            for piece in QueryPlan(fromMinute: from, toMinute: to, state: state, every: nil).pieces {
                ranges.append((piece.granularity.prefix(at: piece.from), piece.granularity.prefix(at: piece.to)))
                owners.append(index)
            }
        }
        try snapshot.scan(ranges: ranges) { range, key, value in
            try folders[owners[range]].add(key: key, value: value)
        }
        return try folders.map { folder in
            try folder.groups().sorted { a, b in
                if a.counters.cost != b.counters.cost { return a.counters.cost > b.counters.cost }
                return a.dimensions.storedFields.lexicographicallyPrecedes(b.dimensions.storedFields)
            }
        }
    }
}
