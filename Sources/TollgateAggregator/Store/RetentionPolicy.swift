/// How long each granularity of usage cells is kept (`retention:` in the aggregator's
/// config), in minutes; nil keeps it forever. Coarser granularities must be kept at least
/// as long as finer ones: retention only drops cells a coarser granularity also holds.
public struct RetentionPolicy: Equatable, Sendable {
    public var minutes: Int64? = 14 * 1_440
    public var hours: Int64? = 400 * 1_440
    public var days: Int64?

    public init(minutes: Int64? = 14 * 1_440, hours: Int64? = 400 * 1_440, days: Int64? = nil) {
        self.minutes = minutes
        self.hours = hours
        self.days = days
    }

    /// Keeps everything.
    public static let forever = RetentionPolicy(minutes: nil, hours: nil, days: nil)

    /// The shortest each may be: minute cells must outlive the hour being built (plus the
    /// settle time), hour cells the day being built.
    public static let shortestMinutes: Int64 = 2 * 60
    public static let shortestHours: Int64 = 2 * 1_440
    public static let shortestDays: Int64 = 2 * 1_440
}

/// What one `UsageStore.enforceRetention` call dropped: for each granularity it deleted
/// from, the first minute it now keeps.
public struct RetentionProgress: Equatable, Sendable {
    public var minutesKeptFrom: Int64?
    public var hoursKeptFrom: Int64?
    public var daysKeptFrom: Int64?
}

extension UsageStore {
    /// Deletes the cells `policy` no longer keeps, with range tombstones (no reads;
    /// compaction reclaims the space). Minute cells go only where their hour cells are
    /// complete, hour cells only where day cells are, cut at whole hours and days, so a
    /// query over any kept range stays exact at the granularity still held.
    @discardableResult
    public func enforceRetention(_ policy: RetentionPolicy, now: Int64) throws -> RetentionProgress {
        try builder.withLock {
            let nowMinute = now >= 0 ? now / 60 : (now - 59) / 60
            let state = rollup.withLockedValue { $0 }
            var progress = RetentionProgress()
            if let keep = policy.minutes {
                let cut = min(CellGranularity.hour.start(ofMinute: nowMinute - keep), state.hoursComplete)
                if cut > state.minutesKeptFrom {
                    try drop(.minute, before: cut, key: RollupKeys.minutesKeptFrom) { $0.minutesKeptFrom = cut }
                    progress.minutesKeptFrom = cut
                }
            }
            if let keep = policy.hours {
                let cut = min(CellGranularity.day.start(ofMinute: nowMinute - keep), state.daysComplete)
                if cut > state.hoursKeptFrom {
                    try drop(.hour, before: cut, key: RollupKeys.hoursKeptFrom) { $0.hoursKeptFrom = cut }
                    progress.hoursKeptFrom = cut
                }
            }
            if let keep = policy.days {
                let cut = CellGranularity.day.start(ofMinute: nowMinute - keep)
                if cut > state.daysKeptFrom {
                    try drop(.day, before: cut, key: RollupKeys.daysKeptFrom) { $0.daysKeptFrom = cut }
                    progress.daysKeptFrom = cut
                }
            }
            return progress
        }
    }

    /// Moves the horizon first (queries from then on widen to the coarser cells), then
    /// deletes: a query never plans on cells that are already gone.
    private func drop(_ granularity: CellGranularity, before cut: Int64, key: [UInt8],
                      horizon: (inout RollupState) -> Void) throws {
        rollup.withLockedValue(horizon)
        let batch = WriteBatch()
        // From the very first key, not from `previous`: a late minute (an agent's spool
        // from before the horizon) may have landed below it since, and is counted in its
        // hour and day cells already.
        batch.deleteRange(from: granularity.prefix(at: .min), to: granularity.prefix(at: cut))
        batch.put(key: key, value: RollupKeys.encode(cut))
        try db.write(batch, sync: false)
    }
}
