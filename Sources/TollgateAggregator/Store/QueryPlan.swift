import TollgateCore

/// How a usage query's minute range is read: whole days from day cells, whole hours from
/// hour cells, the minutes left at the edges from minute cells. Each piece may only use
/// rollups that are complete (`RollupState`), so the totals are the minute cells' own,
/// exactly; a series by hour never reads day cells (a day cell spans 24 hour buckets).
///
/// Where retention has dropped the minute cells, a range edge is widened to the hour it
/// falls in (and to the day, where hour cells are gone too): the answer covers a little
/// more than asked rather than leaving out part of it. Sub-hour precision ends where the
/// minute retention does (README, "Retention").
struct QueryPlan: Equatable {
    struct Piece: Equatable {
        var granularity: CellGranularity
        var from: Int64
        var to: Int64
    }

    private(set) var pieces: [Piece] = []

    init(fromMinute: Int64, toMinute: Int64, state: RollupState, every: UsageBucket?) {
        var from = fromMinute
        var to = toMinute
        if from < state.minutesKeptFrom { from = CellGranularity.hour.start(ofMinute: from) }
        if from < state.hoursKeptFrom { from = CellGranularity.day.start(ofMinute: from) }
        if to < state.minutesKeptFrom { to = CellGranularity.hour.ceiling(ofMinute: to) }
        if to < state.hoursKeptFrom { to = CellGranularity.day.ceiling(ofMinute: to) }
        guard from < to else { return }
        let coarsest: CellGranularity = every == .hour ? .hour : .day
        split(from, to, coarsest: coarsest, state: state)
        pieces.sort { $0.from < $1.from }
    }

    /// The whole `coarsest` cells inside [from, to) that are complete, then the edges one
    /// granularity finer, down to minutes.
    private mutating func split(_ from: Int64, _ to: Int64, coarsest: CellGranularity, state: RollupState) {
        guard from < to else { return }
        let (finer, complete): (CellGranularity, Int64)
        switch coarsest {
        case .minute:
            pieces.append(Piece(granularity: .minute, from: from, to: to))
            return
        case .hour: (finer, complete) = (.minute, state.hoursComplete)
        case .day: (finer, complete) = (.hour, state.daysComplete)
        }
        let first = coarsest.ceiling(ofMinute: from)
        let end = min(coarsest.start(ofMinute: to), complete)
        guard first < end else { return split(from, to, coarsest: finer, state: state) }
        pieces.append(Piece(granularity: coarsest, from: first, to: end))
        split(from, first, coarsest: finer, state: state)
        split(end, to, coarsest: finer, state: state)
    }
}

/// How far the rollups reach and what retention has dropped, as minutes since the epoch.
/// `Int64.min` means "nothing yet". Persisted under `"r"` keys (`RollupKeys`).
struct RollupState: Equatable, Sendable {
    /// A cell whose minute is before this is also merged into its hour and day cells at
    /// ingest: its hour is complete already, so it must be counted there.
    var inlineHoursBefore = Int64.min
    /// The same for day cells: the start of the open day (`daysComplete`). A late minute
    /// between the two goes to the accumulator's sums of the open day instead, since a day
    /// cell is written once, as a value, when its day completes.
    var inlineDaysBefore = Int64.min
    /// Whether ingest adds the cells of hours not complete yet to the accumulator
    /// (`RollupAccumulator`): from the first `rollUp` after the store opens.
    var accumulating = false
    /// Hour cells hold every minute before this; queries read them only there.
    var hoursComplete = Int64.min
    /// Day cells hold every minute of the whole days before this.
    var daysComplete = Int64.min
    /// The first minute each granularity still holds (retention dropped what is before).
    var minutesKeptFrom = Int64.min
    var hoursKeptFrom = Int64.min
    var daysKeptFrom = Int64.min
    /// Why building stopped, if it did: the accumulator may have missed cells, so nothing
    /// more is built until a restart rebuilds it from the minute cells.
    var failure: String?

    /// What a batch prepared now writes and accumulates besides its minute cells.
    var inline: InlineRollups {
        InlineRollups(hoursBefore: inlineHoursBefore, daysBefore: inlineDaysBefore, accumulating: accumulating)
    }

    /// Every minute before `end` is in the hour cells, and in the day cells of the whole
    /// days before it.
    mutating func complete(before end: Int64) {
        hoursComplete = end
        inlineHoursBefore = end
        daysComplete = CellGranularity.day.start(ofMinute: end)
        inlineDaysBefore = daysComplete
    }
}

/// What ingest does besides writing minute cells: a minute before `hoursBefore` (a late
/// minute, an agent's spool resent after an outage) is merged into its hour cell too, in
/// the same batch, and into its day cell if before `daysBefore` (else summed for the
/// accumulator's open day); with `accumulating`, any later one is summed into its hour's
/// group for the accumulator.
struct InlineRollups: Equatable, Sendable {
    var hoursBefore = Int64.min
    var daysBefore = Int64.min
    var accumulating = false
}
