import TollgateCore

/// Whether this agent really holds the fleet's budgets, and when to say loudly that it
/// does not. An agent that never received a snapshot enforces nothing, silently: usually
/// a wrong quota endpoint, an aggregator without `quota_listen`, or a CurveZMQ key the
/// aggregator does not allow. That must be a warning naming the fix, repeated (at a
/// bounded rate) until fixed, a gauge and a `/status` field, never a silence.
///
/// A value fed the clock's instants; the quota subscriber's thread owns it.
struct QuotaChannelHealth {
    enum State: String, CaseIterable, Sendable {
        /// No snapshot since the agent started: no budget is enforced.
        case neverSubscribed = "never_subscribed"
        /// Updates arrive: budgets are enforced from fresh state.
        case enforcing
        /// Updates stopped for longer than `stale_after_ms`: the last state is enforced (or, with `on_stale: deny`, nothing passes).
        case stale
    }

    /// How long after start a missing snapshot is worth a warning (`quota.first_snapshot_timeout_ms`).
    var firstSnapshotTimeout: Duration
    var staleAfter: Duration
    /// Warnings repeat no more often than this while the agent still has no snapshot.
    var repeatEvery = Duration.seconds(60)

    private let startedAt: ServiceClock.Instant
    private var nextWarning: ServiceClock.Instant

    init(startedAt: ServiceClock.Instant, firstSnapshotTimeout: Duration, staleAfter: Duration) {
        self.startedAt = startedAt
        self.firstSnapshotTimeout = firstSnapshotTimeout
        self.staleAfter = staleAfter
        nextWarning = startedAt.advanced(by: firstSnapshotTimeout)
    }

    /// The state at `now`, given when the last update was applied (nil: never).
    func state(lastUpdate: ServiceClock.Instant?, now: ServiceClock.Instant) -> State {
        Self.state(silence: lastUpdate.map { $0.duration(to: now) }, staleAfter: staleAfter)
    }

    /// The one rule for how fresh the quota state is, given how long the channel has been
    /// silent (nil: no update ever): the gauge, `/status` and the fleet report all use it
    /// (through `QuotaView`), and the aggregator judges a report by the same line.
    static func state(silence: Duration?, staleAfter: Duration) -> State {
        guard let silence else { return .neverSubscribed }
        return silence > staleAfter ? .stale : .enforcing
    }

    /// The warning to log now, if one is due: only while no snapshot has ever arrived, first
    /// after `firstSnapshotTimeout`, then every `repeatEvery`.
    mutating func warning(lastUpdate: ServiceClock.Instant?, now: ServiceClock.Instant, endpoint: String) -> String? {
        guard lastUpdate == nil, now >= nextWarning else { return nil }
        nextWarning = now.advanced(by: repeatEvery)
        let waited = startedAt.duration(to: now).components.seconds
        return "no budgets received from the aggregator's quota channel at \(endpoint) in \(waited) s: this agent enforces NO budget. "
            + "Check that the aggregator sets quota_listen and that it is reachable at that address, that this agent's quota.endpoint "
            + "(default: the usage endpoint's port + 2) names it, and that this agent's CurveZMQ public key is in the aggregator's "
            + "authorized_keys_dir (the same key serves both channels)"
    }
}
