/// The unit of usage Tollgate ships and stores: one minute × one combination of dimensions.
///
/// Agents fold requests into cells before shipping (DESIGN.md decision 4), so the
/// aggregator's work grows with distinct (minute, dimensions) pairs, not with requests.
public struct CellKey: Hashable, Sendable {
    public var minute: Int64
    public var dimensions: Dimensions

    public init(minute: Int64, dimensions: Dimensions) {
        self.minute = minute
        self.dimensions = dimensions
    }
}

public struct Cell: Hashable, Sendable {
    public var key: CellKey
    public var counters: UsageCounters

    public init(key: CellKey, counters: UsageCounters) {
        self.key = key
        self.counters = counters
    }
}

/// Folds events (or cells) into cells; summing is the only operation, so folding is
/// order-independent and merging two folds gives the same cells as one fold.
public struct CellAccumulator: Sendable {
    private var counters: [CellKey: UsageCounters] = [:]

    public init() {}

    public var isEmpty: Bool { counters.isEmpty }
    public var count: Int { counters.count }

    public mutating func add(_ event: UsageEvent) {
        counters[CellKey(minute: event.minute, dimensions: event.dimensions), default: UsageCounters()].add(event)
    }

    public mutating func add(_ cell: Cell) {
        counters[cell.key, default: UsageCounters()].add(cell.counters)
    }

    /// Hands out everything folded so far and starts empty again.
    public mutating func drain() -> [Cell] {
        defer { counters.removeAll(keepingCapacity: true) }
        return counters.map { Cell(key: $0.key, counters: $0.value) }
    }
}
