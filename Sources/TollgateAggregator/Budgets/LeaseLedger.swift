import TollgateCore
import TollgateWire

/// One budget's leases in one window: whether the budget is leased, and the slice each
/// agent holds of what remains (DESIGN.md, "Near the limit"). A value, driven by
/// `LeaseDesk` and tested with plain values and a manual clock.
///
/// **What a slice holds back.** An agent opening a slice says how much of its spend on the
/// budget the aggregator may not have counted yet (`unreflected`: its local spend not yet in
/// a pushed watermark, plus what requests in flight reserved). From then on the agent admits
/// only what fits in `granted` (worst case reserved, settled after), so everything it can
/// still add to `spent` is at most `unreflected + granted`. Every batch of that agent
/// committed afterwards adds to `spent` and to `consumed` alike, so
/// `outstanding = unreflected + granted − consumed` is what may still arrive, and
/// `spent + Σ outstanding` never undercounts what the fleet can reach. Grants come only from
/// `blockAt − spent − Σ outstanding`: never more in total than remains.
///
/// **When a slice comes back.** Not at its expiry: an agent cut off from us may have admitted
/// requests under it whose usage waits in its spool, and releasing the slice then would
/// let the fleet spend that twice. The agent gives a slice back once it has lapsed and
/// every request admitted under it is in a batch the pushed state counts; until then a
/// lost agent's slice is lost to the fleet (under-admission, never over-admission).
struct LeaseLedger {
    struct Settings: Sendable, Equatable {
        var enabled = true
        /// A slice lapses this long after the agent receives it unless topped up.
        var ttl = Duration.seconds(5)
        /// What the fleet spends before a change reaches every agent: the agents' flush
        /// interval, the commit, the push, and requests already in flight.
        var horizon = Duration.seconds(1)
        /// The budget is leased once what remains is below `safety × burn rate × horizon`,
        /// so spend admitted by agents that have not heard of the switch still fits.
        var safety: Int64 = 3
        /// How far back the burn rate looks.
        var rateWindow = Duration.seconds(10)
    }

    struct Slice: Equatable {
        var leaseID: UInt64
        var unreflected: Int64
        var granted: Int64 = 0
        var consumed: Int64 = 0
        var renewedAt: ServiceClock.Instant

        var outstanding: Int64 { max(0, unreflected &+ granted &- consumed) }
    }

    let budgetID: String
    let windowStart: Int64
    let settings: Settings
    private(set) var blockAt: Int64?
    private(set) var spent: Int64
    private(set) var leased = false
    /// What the switch could not cover: `burn rate × horizon − remaining` when it happened.
    private(set) var boundAtSwitch: Int64 = 0
    private(set) var slices: [String: Slice] = [:]
    /// When an agent was last refused for want of remainder: demand the burn rate cannot see
    /// (nothing refused is committed).
    private(set) var lastShortfall: ServiceClock.Instant?
    private var samples: [(at: ServiceClock.Instant, spent: Int64)] = []
    /// Per agent, what its recent batches added (by seq): a new slice's `unreflected` may count
    /// batches already committed here that the agent has not yet seen counted; those are subtracted.
    /// Only batches after the watermark published to the agent are needed (`forget`); the
    /// count cap is a backstop for an agent that hears no watermark (not subscribed).
    private var recent: [String: [(seq: UInt64, added: Int64)]] = [:]
    static let recentBatches = 256
    private var lastLeaseID: UInt64

    /// `firstLeaseID` keeps ids unique across windows and budgets (the desk hands them out).
    init(budgetID: String, windowStart: Int64, blockAt: Int64?, spent: Int64, settings: Settings, firstLeaseID: UInt64 = 0) {
        self.budgetID = budgetID
        self.windowStart = windowStart
        self.blockAt = blockAt
        self.spent = spent
        self.settings = settings
        lastLeaseID = firstLeaseID
    }

    var outstanding: Int64 { slices.values.reduce(0) { $0 &+ $1.outstanding } }
    var nextLeaseID: UInt64 { lastLeaseID + 1 }

    /// What may still be granted.
    var available: Int64 {
        guard let blockAt else { return 0 }
        return max(0, blockAt &- spent &- outstanding)
    }

    /// Spend per second over the last `rateWindow`.
    func burnRate(now: ServiceClock.Instant) -> Double {
        guard let first = samples.first, let last = samples.last, last.spent > first.spent else { return 0 }
        let seconds = max(first.at.duration(to: now).inSeconds, 0.25)
        return Double(last.spent - first.spent) / seconds
    }

    /// How far past `blockAt` the fleet may go, as published: without leases the fleet's spend
    /// before a block reaches every agent; with leases only what the switch could not cover
    /// (0 when the budget is not leased yet and remaining still covers one horizon).
    func overshootBound(now: ServiceClock.Instant) -> Int64? {
        guard let blockAt else { return nil }
        let inHorizon = Int64((burnRate(now: now) * settings.horizon.inSeconds).rounded(.up))
        guard settings.enabled else { return inHorizon }
        if leased { return boundAtSwitch }
        return max(0, inHorizon - max(0, blockAt - spent))
    }

    /// Whether a change that only moves this budget's spend may reach agents `lag` later than
    /// the normal window: the budget is not leased and what remains covers `safety × burn
    /// rate × (horizon + lag)`, so the fleet cannot spend it in the extra lag even at `safety`
    /// times the measured rate, and the lease switch (urgent, computed here on every commit
    /// whatever agents hold) is still `safety × burn × lag` away. A budget that never blocks is
    /// always far: agents decide nothing by its spend.
    func isFarFromLine(now: ServiceClock.Instant, lag: Duration) -> Bool {
        guard let blockAt else { return true }
        guard !leased else { return false }
        let remaining = blockAt - spent
        guard remaining > 0 else { return false }
        return Double(remaining) >= burnRate(now: now) * (settings.horizon + lag).inSeconds * Double(settings.safety)
    }

    /// The agent has been published a watermark at `seq` (and had time to apply it): its
    /// requests' basis is at least that, so batches up to it are never subtracted again.
    mutating func forget(agentID: String, through seq: UInt64) {
        guard let batches = recent[agentID], let first = batches.first, first.seq <= seq else { return }
        if batches.last!.seq <= seq {
            recent[agentID] = nil
        } else {
            recent[agentID]!.removeAll { $0.seq <= seq }
        }
    }

    /// How many batches of `agentID` are kept (tests: the memory bound).
    func recentCount(agentID: String) -> Int { recent[agentID]?.count ?? 0 }

    /// The budget's block line or committed spend changed (a budget edit, an exemption, or a
    /// status read); `spent` only ever moves forward within a window.
    mutating func observe(blockAt: Int64?, spent: Int64, now: ServiceClock.Instant) {
        if blockAt != self.blockAt {
            self.blockAt = blockAt
            // A raised limit can lift the lease; slices already out stay accounted until given back.
            leased = false
        }
        record(spent: spent, now: now)
    }

    /// A committed batch added `added` to the budget (window total now `spent`); `agentID`
    /// names whose batch it was, whose slice it draws down.
    mutating func committed(added: Int64, spent: Int64, agentID: String?, seq: UInt64? = nil, now: ServiceClock.Instant) {
        if let agentID, slices[agentID] != nil { slices[agentID]!.consumed &+= added }
        if let agentID, let seq {
            // In place (`default:`), not copied out and back: see `LeaseDesk.committed`.
            recent[agentID, default: []].append((seq, added))
            if let count = recent[agentID]?.count, count > Self.recentBatches { recent[agentID]!.removeFirst(count - Self.recentBatches) }
        }
        record(spent: spent, now: now)
    }

    private mutating func record(spent: Int64, now: ServiceClock.Instant) {
        self.spent = max(self.spent, spent)
        if samples.last?.spent != self.spent || samples.isEmpty { samples.append((now, self.spent)) }
        while samples.count > 2, let second = samples.dropFirst().first, second.at.duration(to: now) >= settings.rateWindow {
            samples.removeFirst()
        }
        guard settings.enabled, let blockAt else { return }
        let remaining = max(0, blockAt - self.spent)
        let inHorizon = burnRate(now: now) * settings.horizon.inSeconds
        if leased {
            // The burn died down (the rate decays while nothing is committed): far enough from
            // the line again, agents go back to the pushed state. Twice the margin, so a budget
            // does not flap; slices out stay accounted until their agents give them back.
            // Not while hosts were refused lately: their requests are not in the burn rate (they
            // were never sent), and released all at once against the pushed state they would
            // overshoot what little remains.
            let shortOfLate = lastShortfall.map { $0.duration(to: now) < settings.rateWindow } ?? false
            if !shortOfLate && Double(remaining) >= 2 * inHorizon * Double(settings.safety) && remaining > 0 { leased = false }
            return
        }
        if Double(remaining) < inHorizon * Double(settings.safety) {
            leased = true
            boundAtSwitch = max(0, Int64(inHorizon.rounded(.up)) - remaining)
        }
    }

    /// Answers one agent's request. `activeAgents` is how many agents may ask for a share
    /// (the fleet's online agents): each new grant is at most an equal share of what is
    /// available, but never less than the request's own worst case while that much remains.
    /// `mayGrant` false (an aggregator just started) records the request but grants nothing.
    mutating func request(_ request: LeaseRequestMessage, activeAgents: Int, now: ServiceClock.Instant,
                          ttlMilliseconds: UInt32, mayGrant: Bool = true) -> LeaseGrantMessage {
        func answer(_ slice: Slice?, added: Int64 = 0, refused: LeaseGrantMessage.Refusal? = nil) -> LeaseGrantMessage {
            LeaseGrantMessage(budgetID: budgetID, windowStart: windowStart, leaseID: slice?.leaseID ?? request.leaseID,
                              added: added, total: slice?.granted ?? 0, ttlMilliseconds: ttlMilliseconds, refused: refused)
        }
        guard request.windowStart == windowStart else { return answer(nil, refused: .staleWindow) }
        let held = slices[request.agentID]
        if request.release {
            guard let held, held.leaseID == request.leaseID else { return answer(nil, refused: .unknownLease) }
            slices[request.agentID] = nil
            return answer(held)
        }
        var slice: Slice
        if request.leaseID == 0 {
            lastLeaseID += 1
            // Batches after the agent's basis that are committed here are in `spent` already.
            let counted = (recent[request.agentID] ?? []).filter { $0.seq > request.basisSeq }.reduce(Int64(0)) { $0 &+ $1.added }
            let unreflected = max(0, request.unreflected &- counted)
            // An agent that opens a new slice while holding one lost track of it (it restarted):
            // what that one may still bring stays held, inside the new one.
            slice = Slice(leaseID: lastLeaseID, unreflected: unreflected &+ (held?.outstanding ?? 0), renewedAt: now)
        } else {
            guard let held, held.leaseID == request.leaseID else { return answer(nil, refused: .unknownLease) }
            slice = held
            // Admitted by the agent before its first answer, reported with its next ask.
            slice.unreflected &+= request.unreflected
        }
        slice.renewedAt = now
        // Recorded before anything is granted: its unreflected spend is held back even if
        // the answer is no.
        slices[request.agentID] = slice
        guard leased else { return answer(slice, refused: .notLeased) }
        // Asking for nothing keeps the slice alive (the agent is still using what it holds).
        if request.need == 0 && request.want == 0 && request.leaseID != 0 { return answer(slice) }
        let available = available
        let share = available / Int64(max(1, activeAgents))
        let amount = min(available, min(max(request.want, request.need), max(share, request.need)))
        guard mayGrant, amount > 0, amount >= request.need else {
            lastShortfall = now
            return answer(slice, refused: .noRemainder)
        }
        slice.granted &+= amount
        slices[request.agentID] = slice
        return answer(slice, added: amount)
    }
}

extension Duration {
    /// Seconds as a `Double`, for rates.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
