import TollgateCore
import TollgateWire

/// This agent's slices of leased budgets (DESIGN.md, "Near the limit"): a value the quota
/// book keeps under its lock, driven by decisions, settlements, grants and the clock.
///
/// On a leased budget a request is admitted only if its worst case fits in what is left of
/// the slice (`granted − used`); it is reserved there, and settled with the actual cost.
/// With no slice (none granted yet, or it lapsed while the aggregator was out of reach)
/// nothing is admitted: under-admission, never over-admission. A slice lapses `ttl` after
/// the grant that last topped it up arrived (measured on this agent's clock from receipt,
/// so it lapses here before the aggregator could count it as lapsed). A lapsed slice is
/// given back once every request admitted under it has settled and the pushed state counts
/// all their usage (`LocalSpend` holds no ticket up to the last one they took).
struct LeaseSlices {
    struct Slice: Equatable {
        var leaseID: UInt64
        var windowStart: Int64
        var granted: Int64
        /// Reserved by requests in flight plus settled by those done.
        var used: Int64 = 0
        var inFlight = 0
        var expiresAt: ServiceClock.Instant
        var lastUsed: ServiceClock.Instant
        /// Set once lapsed and settled: the last local-spend ticket its requests can hold.
        var lastTicket: LocalSpend.Ticket?

        var room: Int64 { granted - used }
    }

    /// A request sent and not yet answered: one per budget at a time.
    struct Asking: Equatable {
        var leaseID: UInt64
        var sentAt: ServiceClock.Instant
    }

    /// How long an unanswered request waits before it is sent again.
    static let askAgain = Duration.seconds(1)
    /// A slice is asked to hold this many of the budget's typical worst cases.
    static let wantedRequests: Int64 = 8

    private(set) var live: [String: Slice] = [:]
    private(set) var lapsed: [String: Slice] = [:]
    private(set) var asking: [String: Asking] = [:]
    /// The largest worst case seen lately per budget: what a slice must fit at least.
    private(set) var need: [String: Int64] = [:]
    /// Per budget, the newest slice given back or dropped: an answer for it or an older one
    /// (delayed in a partition, delivered after) must not bring it back, since the aggregator
    /// no longer holds it. Lease ids only grow (the aggregator starts them from its clock).
    private(set) var retired: [String: UInt64] = [:]
    /// Per budget, the window in which the aggregator first answered us: before that answer
    /// (one round trip after the budget became leased) requests are admitted as before the
    /// switch, and what they reserve is `bridged` into the first slice (and reported with the
    /// next ask), instead of refusing a request the fleet can afford.
    private(set) var firstAnswered: [String: Int64] = [:]
    private(set) var bridged: [String: Int64] = [:]
    /// Bridged amounts not yet told to the aggregator.
    private(set) var unreported: [String: Int64] = [:]
    /// A slice's life from its receipt, as the last answer gave it.
    private(set) var ttl = Duration.seconds(5)

    /// Remembers a request's worst case on a capped budget, leased or not, so a slice can be
    /// asked for as soon as the budget is leased.
    mutating func noteNeed(budgetID: String, worst: Int64) {
        need[budgetID] = max(need[budgetID] ?? 0, worst)
    }

    /// Reserves `worst` in the budget's slice; the lease id on success, nil when it does not fit.
    mutating func reserve(budgetID: String, windowStart: Int64, worst: Int64, now: ServiceClock.Instant) -> UInt64? {
        expire(now: now)
        noteNeed(budgetID: budgetID, worst: worst)
        guard var slice = live[budgetID], slice.windowStart == windowStart, worst <= slice.room else { return nil }
        slice.used += worst
        slice.inFlight += 1
        slice.lastUsed = now
        live[budgetID] = slice
        return slice.leaseID
    }

    /// Whether a request on this leased budget may be admitted as before the switch: the
    /// aggregator has not answered this agent about it in this window yet.
    func mayBridge(budgetID: String, windowStart: Int64) -> Bool {
        live[budgetID] == nil && lapsed[budgetID] == nil && firstAnswered[budgetID] != windowStart
    }

    mutating func bridge(budgetID: String, amount: Int64) {
        bridged[budgetID, default: 0] += amount
    }

    /// A request admitted under `leaseID` ended: its reservation becomes its actual cost.
    mutating func settle(budgetID: String, leaseID: UInt64, reserved: Int64, actual: Int64) {
        if var slice = live[budgetID], slice.leaseID == leaseID {
            slice.used += actual - reserved
            slice.inFlight -= 1
            live[budgetID] = slice
        } else if var slice = lapsed[budgetID], slice.leaseID == leaseID {
            slice.used += actual - reserved
            slice.inFlight -= 1
            lapsed[budgetID] = slice
        }
    }

    /// The aggregator answered. An answer names the slice the aggregator now holds for us
    /// (a refused new one too: it holds our unreflected spend), so that slice is adopted and
    /// later asks top it up rather than open another; only a grant extends its life. An
    /// answer for a slice older than the one held is stale and changes nothing.
    mutating func received(_ grant: LeaseGrantMessage, ttl: Duration, now: ServiceClock.Instant) {
        let budgetID = grant.budgetID
        if grant.ttlMilliseconds > 0 { self.ttl = ttl }
        if grant.refused == nil, let asked = asking[budgetID], asked.leaseID == grant.leaseID || asked.leaseID == 0 {
            asking[budgetID] = nil
        }
        switch grant.refused {
        case .unknownLease:
            // The aggregator no longer holds it (it restarted): stop using it; a new one is asked for.
            if live[budgetID]?.leaseID == grant.leaseID { live[budgetID] = nil }
            if lapsed[budgetID]?.leaseID == grant.leaseID { lapsed[budgetID] = nil }
            retire(budgetID, grant.leaseID)
            asking[budgetID] = nil
            return
        case .unknownAgent, .staleWindow:
            return
        case nil, .noRemainder, .notLeased:
            break
        }
        if grant.leaseID != 0, grant.leaseID == live[budgetID]?.leaseID { unreported[budgetID] = nil }
        firstAnswered[budgetID] = grant.windowStart
        guard grant.leaseID != 0, lapsed[budgetID]?.leaseID != grant.leaseID, grant.leaseID > retired[budgetID] ?? 0 else { return }
        if var slice = live[budgetID] {
            guard grant.leaseID >= slice.leaseID else { return }
            if grant.leaseID == slice.leaseID {
                slice.granted = max(slice.granted, grant.total)
                if grant.refused == nil { slice.expiresAt = now.advanced(by: ttl) }
                live[budgetID] = slice
                return
            }
            // A new slice replaces this one; the aggregator counts what this one may still bring in the new one.
            if lapsed[budgetID] == nil { lapsed[budgetID] = slice }
        }
        // What was admitted before this answer counts against the slice from now on.
        let bridge = bridged.removeValue(forKey: budgetID) ?? 0
        if bridge > 0 { unreported[budgetID, default: 0] += bridge }
        live[budgetID] = Slice(leaseID: grant.leaseID, windowStart: grant.windowStart, granted: grant.total, used: bridge,
                               expiresAt: now.advanced(by: ttl), lastUsed: now)
    }

    /// Moves slices past their expiry to `lapsed`.
    mutating func expire(now: ServiceClock.Instant) {
        for (budgetID, slice) in live where now >= slice.expiresAt {
            live[budgetID] = nil
            // A slice lapsed earlier and not given back yet stays; the aggregator holds both.
            if lapsed[budgetID] == nil { lapsed[budgetID] = slice }
        }
    }

    /// What to send now, given the budgets' statuses and this agent's spend the aggregator
    /// may not have counted (`unreflected`); `lastTicket` is the newest local-spend ticket and
    /// `holdsTicket(t)` whether local spend still holds any ticket up to `t`.
    mutating func due(statuses: [BudgetStatus], agentID: String, now: ServiceClock.Instant, ttl: Duration,
                      unreflected: (BudgetStatus) -> Int64, basisSeq: UInt64, lastTicket: LocalSpend.Ticket,
                      holdsTicket: (LocalSpend.Ticket) -> Bool) -> [LeaseRequestMessage] {
        expire(now: now)
        var requests: [LeaseRequestMessage] = []
        let current = Dictionary(statuses.map { ($0.budgetID, $0) }, uniquingKeysWith: { first, _ in first })
        for (budgetID, slice) in lapsed {
            guard slice.inFlight == 0 else { continue }
            guard let status = current[budgetID], status.windowStart == slice.windowStart else {
                // The window ended or the budget is gone: the aggregator's ledger for it is too.
                lapsed[budgetID] = nil
                continue
            }
            var settled = slice
            if settled.lastTicket == nil {
                settled.lastTicket = lastTicket
                lapsed[budgetID] = settled
            }
            guard !holdsTicket(settled.lastTicket!) else { continue }
            lapsed[budgetID] = nil
            retire(budgetID, slice.leaseID)
            requests.append(LeaseRequestMessage(agentID: agentID, budgetID: budgetID, windowStart: slice.windowStart,
                                                leaseID: slice.leaseID, release: true))
        }
        for status in statuses.sorted(by: { $0.budgetID < $1.budgetID }) where status.leased && status.blockAt != nil {
            let budgetID = status.budgetID
            if let asked = asking[budgetID], asked.sentAt.duration(to: now) < Self.askAgain { continue }
            if let slice = live[budgetID], slice.windowStart != status.windowStart { live[budgetID] = nil }
            guard let need = need[budgetID], need > 0 else { continue }
            let target = need * Self.wantedRequests
            let request: LeaseRequestMessage
            if let slice = live[budgetID] {
                // Against the need, not what was granted so far: a long-lived slice's cumulative
                // total would make it "low" forever and hoard grants.
                let low = slice.room < 2 * need
                let renew = slice.lastUsed.duration(to: now) < ttl / 2 && now.duration(to: slice.expiresAt) < ttl / 2
                let report = unreported[budgetID] ?? 0
                guard low || renew || report > 0 else { continue }
                request = LeaseRequestMessage(agentID: agentID, budgetID: budgetID, windowStart: status.windowStart, leaseID: slice.leaseID,
                                              need: low ? need : 0, want: low ? max(0, target - slice.room) : 0, unreflected: report)
            } else {
                request = LeaseRequestMessage(agentID: agentID, budgetID: budgetID, windowStart: status.windowStart, leaseID: 0,
                                              need: need, want: target, unreflected: unreflected(status), basisSeq: basisSeq)
            }
            asking[budgetID] = Asking(leaseID: request.leaseID, sentAt: now)
            requests.append(request)
        }
        return requests
    }

    private mutating func retire(_ budgetID: String, _ leaseID: UInt64) {
        retired[budgetID] = max(retired[budgetID] ?? 0, leaseID)
    }

    /// True when the budget's slice exists and is current (for the refusal's wording).
    func holds(budgetID: String) -> Bool { live[budgetID] != nil }
}
