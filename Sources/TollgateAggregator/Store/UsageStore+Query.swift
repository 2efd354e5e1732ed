import Dispatch
import TollgateCore

/// A usage query that cannot be answered as asked.
public enum UsageRangeError: Error, CustomStringConvertible, Equatable {
    case rangeEndsBeforeStart(fromMinute: Int64, toMinute: Int64)

    public var description: String {
        switch self {
        case .rangeEndsBeforeStart(let from, let to):
            "the time range ends (\(CivilDate.rfc3339(minute: to))) before it starts (\(CivilDate.rfc3339(minute: from))); "
                + "give an end at or after the start"
        }
    }
}

extension UsageStore {
    /// Totals for minutes in [`fromMinute`, `toMinute`) of the cells whose dimensions hold
    /// every `matching` value, one group per distinct value of the `groupBy` dimensions (and
    /// per `every` bucket, when given); ordered by bucket, then cost, highest first, then by
    /// dimension values. An empty range gives no groups; a range that ends before it starts
    /// is refused (`UsageRangeError`).
    ///
    /// Reads the coarsest complete cells that cover the range (`QueryPlan`), all from one
    /// snapshot, so a batch is either in every piece or in none; a long range in two parts
    /// on two threads (`QueryPlan.parts`).
    public func query(fromMinute: Int64, toMinute: Int64, groupBy: [TollgateCore.UsageDimension],
                      matching filters: [UsageFilter] = [], every: UsageBucket? = nil) throws -> [UsageGroup] {
        guard fromMinute <= toMinute else { throw UsageRangeError.rangeEndsBeforeStart(fromMinute: fromMinute, toMinute: toMinute) }
        guard fromMinute < toMinute else { return [] }
        // Whole-history callers pass Int64.min/max; rounding those to hours would overflow.
        let fromMinute = max(fromMinute, -(1 << 60)), toMinute = min(toMinute, 1 << 60)
        // State and snapshot together: retention moves its horizon before it deletes, the
        // builder marks hours complete after it wrote them.
        let (state, snapshot) = try rollup.withLockedValue { state in (state, try db.snapshot()) }
        let plan = QueryPlan(fromMinute: fromMinute, toMinute: toMinute, state: state, every: every)
        let parts = plan.parts
        var folders = parts.map { _ in CellFolder(groupBy: groupBy, filters: filters, every: every) }
        defer { for folder in folders { folder.deallocate() } }
        var failures = [(any Error)?](repeating: nil, count: parts.count)
        folders.withUnsafeMutableBufferPointer { folders in
            failures.withUnsafeMutableBufferPointer { failures in
                // Each part on its own thread, into its own folder and failure slot
                // (`QueryPlan.parts`); RocksDB iterators on one snapshot may run concurrently.
                nonisolated(unsafe) let folders = folders.baseAddress!
                nonisolated(unsafe) let failures = failures.baseAddress!
                nonisolated(unsafe) let snapshot = snapshot
                DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                    do {
                        for piece in parts[part] {
                            try snapshot.scan(from: piece.granularity.prefix(at: piece.from), to: piece.granularity.prefix(at: piece.to)) { key, value in
                                try folders[part].add(key: key, value: value)
                            }
                        }
                    } catch {
                        failures[part] = error
                    }
                }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
        for part in folders.indices.dropFirst() { folders[0].add(folders[part]) }
        let groups = try folders[0].groups()
        // Indices are sorted, not the groups: moving a group copies 13 strings, and for an
        // answer of ~1,900 groups that sort cost more than encoding the answer.
        let keys = groups.map { (bucket: $0.bucketStartMinute ?? 0, cost: $0.counters.cost.value) }
        let order = groups.indices.sorted { i, j in
            if keys[i].bucket != keys[j].bucket { return keys[i].bucket < keys[j].bucket }
            if keys[i].cost != keys[j].cost { return keys[i].cost > keys[j].cost }
            return groups[i].dimensions.storedFields.lexicographicallyPrecedes(groups[j].dimensions.storedFields)
        }
        return order.map { groups[$0] }
    }
}
