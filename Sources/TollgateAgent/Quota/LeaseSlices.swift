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

    /// A request sent: one per budget at a time. `answered` once a refusal came back (a grant
    /// clears it); the next ask waits `askAgain` from `sentAt` either way.
    struct Asking: Equatable {
        var leaseID: UInt64
        var sentAt: ServiceClock.Instant
        var answered = false
    }

    /// What the first slice of a window must carry besides what it is granted: requests
    /// admitted outside any slice that the aggregator has not counted. The first ask reports
    /// only settled local spend (exact); requests in flight when it went out (`serial` names the
    /// last reservation made by then) and those admitted before its answer (`bridged`) are
    /// charged to the slice at their worst case and settled there at their actual cost. Reported
    /// at their worst case instead, the aggregator would hold back the difference until the slice
    /// was given back: room no host could use, refused at the end of a budget and granted
    /// again seconds later.
    struct Opening: Equatable {
        var windowStart: Int64
        var serial: UInt64
        /// Worst cases of those in flight, actual costs of those settled.
        var charge: Int64
        var inFlight: Int
        /// The slice that took the charge over, once the aggregator answered.
        var leaseID: UInt64?
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
    /// switch and charged to the first slice (`openings`), instead of refusing a request the
    /// fleet can afford.
    private(set) var firstAnswered: [String: Int64] = [:]
    private(set) var openings: [String: Opening] = [:]
    /// Answers received per budget: a request waiting for one (`QuotaGate`) sees it arrive.
    private(set) var answers: [String: UInt64] = [:]
    /// Per budget, the window in which the aggregator answered that it no longer leases it,
    /// until the next status for the budget arrives (`statusArrived`).
    private(set) var unleased: [String: Int64] = [:]
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

    /// Whether the aggregator said it no longer leases this budget, after the status the
    /// agent holds was computed.
    func isUnleased(budgetID: String, windowStart: Int64) -> Bool {
        unleased[budgetID] == windowStart
    }

    /// A status for the budget arrived: it says whether the budget is leased.
    mutating func statusArrived(budgetID: String) {
        unleased[budgetID] = nil
    }

    /// Whether a request on this leased budget may be admitted as before the switch: the
    /// aggregator has not answered this agent about it in this window yet.
    func mayBridge(budgetID: String, windowStart: Int64) -> Bool {
        live[budgetID] == nil && lapsed[budgetID] == nil && firstAnswered[budgetID] != windowStart
    }

    /// A request admitted as before the switch. Once the first ask is out, its worst case is
    /// charged to the first slice, and the opening it went to (its serial) is returned; before,
    /// it is one of the requests in flight that the ask charges.
    mutating func bridge(budgetID: String, windowStart: Int64, amount: Int64) -> UInt64? {
        guard var opening = openings[budgetID], opening.windowStart == windowStart, opening.leaseID == nil else { return nil }
        opening.charge += amount
        opening.inFlight += 1
        openings[budgetID] = opening
        return opening.serial
    }

    /// Whether a reservation made outside any slice and settling now is carried by the
    /// budget's first slice, and so is settled there: it was in flight when the ask went out
    /// (made up to its `serial`), or was bridged into that opening (`chargedTo`).
    func isCharged(budgetID: String, serial: UInt64, chargedTo: UInt64?) -> Bool {
        guard let opening = openings[budgetID] else { return false }
        if let chargedTo { return chargedTo == opening.serial }
        return serial <= opening.serial
    }

    /// A request admitted under `leaseID` ended: its reservation becomes its actual cost.
    mutating func settle(budgetID: String, leaseID: UInt64, reserved: Int64, actual: Int64) {
        if var slice = live[budgetID], slice.leaseID == leaseID {
            slice.used += actual - reserved
            slice.inFlight = max(0, slice.inFlight - 1)
            live[budgetID] = slice
        } else if var slice = lapsed[budgetID], slice.leaseID == leaseID {
            slice.used += actual - reserved
            slice.inFlight = max(0, slice.inFlight - 1)
            lapsed[budgetID] = slice
        }
    }

    /// A request the first slice carries (`isCharged`) ended: settled in the charge, or in
    /// the slice that took it over.
    mutating func settleCharged(budgetID: String, reserved: Int64, actual: Int64) {
        guard var opening = openings[budgetID] else { return }
        if let leaseID = opening.leaseID {
            settle(budgetID: budgetID, leaseID: leaseID, reserved: reserved, actual: actual)
            return
        }
        opening.charge += actual - reserved
        opening.inFlight = max(0, opening.inFlight - 1)
        openings[budgetID] = opening
    }

    /// The aggregator answered. An answer names the slice the aggregator now holds for us
    /// (a refused new one too: it holds our unreflected spend), so that slice is adopted and
    /// later asks top it up rather than open another; only a grant extends its life. An
    /// answer for a slice older than the one held is stale and changes nothing.
    mutating func received(_ grant: LeaseGrantMessage, ttl: Duration, now: ServiceClock.Instant) {
        let budgetID = grant.budgetID
        if grant.ttlMilliseconds > 0 { self.ttl = ttl }
        answers[budgetID, default: 0] += 1
        if let asked = asking[budgetID], asked.leaseID == grant.leaseID || asked.leaseID == 0 {
            // A refusal keeps the ask's time, so the next one waits `askAgain`.
            if grant.refused == nil { asking[budgetID] = nil } else { asking[budgetID]?.answered = true }
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
        // The aggregator stopped leasing it (the burn died down) before the status saying so
        // reached us: admit by the pushed state, as the aggregator now expects, until a status arrives.
        if grant.refused == .notLeased { unleased[budgetID] = grant.windowStart }
        firstAnswered[budgetID] = grant.windowStart
        guard grant.leaseID != 0, lapsed[budgetID]?.leaseID != grant.leaseID, grant.leaseID > retired[budgetID] ?? 0 else { return }
        if var slice = live[budgetID] {
            guard grant.leaseID >= slice.leaseID else { return }
            if grant.leaseID == slice.leaseID {
                slice.granted = max(slice.granted, grant.total)
                if grant.refused == nil { slice.expiresAt = now.advanced(by: ttl) }
                live[budgetID] = slice
                if grant.refused == .noRemainder, slice.room < need[budgetID] ?? 1, lapsed[budgetID] == nil {
                    // Nothing more to be had, and what this slice has left fits no request of
                    // ours: given back now (once what it admitted is counted), not when it
                    // lapses, so another host that can use the rest gets it at its next ask.
                    live[budgetID] = nil
                    lapsed[budgetID] = slice
                }
                return
            }
            // A new slice replaces this one; the aggregator counts what this one may still bring in the new one.
            if lapsed[budgetID] == nil { lapsed[budgetID] = slice }
        }
        // What was admitted outside a slice and not reported counts against the first slice
        // from now on, and settles there.
        var slice = Slice(leaseID: grant.leaseID, windowStart: grant.windowStart, granted: grant.total,
                          expiresAt: now.advanced(by: ttl), lastUsed: now)
        if var opening = openings[budgetID], opening.windowStart == grant.windowStart, opening.leaseID == nil {
            slice.used = opening.charge
            slice.inFlight = opening.inFlight
            opening.leaseID = grant.leaseID
            openings[budgetID] = opening
        }
        live[budgetID] = slice
    }

    /// Moves slices past their expiry to `lapsed`.
    mutating func expire(now: ServiceClock.Instant) {
        for (budgetID, slice) in live where now >= slice.expiresAt {
            live[budgetID] = nil
            // A slice lapsed earlier and not given back yet stays; the aggregator holds both.
            if lapsed[budgetID] == nil { lapsed[budgetID] = slice }
        }
    }

    /// What to send now, given the budgets' statuses and this agent's settled spend the
    /// aggregator may not have counted (`unreflected`); `inFlight` is what requests admitted
    /// outside any slice hold on a budget (worst cases, and how many), `serial` the last
    /// reservation made; `lastTicket` is the newest local-spend ticket and `holdsTicket(t)`
    /// whether local spend still holds any ticket up to `t`.
    mutating func due(statuses: [BudgetStatus], agentID: String, now: ServiceClock.Instant, ttl: Duration,
                      unreflected: (BudgetStatus) -> Int64, inFlight: (String) -> (amount: Int64, count: Int), serial: UInt64,
                      basisSeq: UInt64, lastTicket: LocalSpend.Ticket,
                      holdsTicket: (LocalSpend.Ticket) -> Bool) -> [LeaseRequestMessage] {
        expire(now: now)
        for (budgetID, opening) in openings where current(statuses, budgetID)?.windowStart != opening.windowStart {
            openings[budgetID] = nil
        }
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
            // A slice given back is released first: a new one asked for meanwhile would have the
            // aggregator keep what the old one may still bring inside it, beyond the release.
            if live[budgetID] == nil, lapsed[budgetID]?.windowStart == status.windowStart { continue }
            let target = need * Self.wantedRequests
            let request: LeaseRequestMessage
            if let slice = live[budgetID] {
                // Against the need, not what was granted so far: a long-lived slice's cumulative
                // total would make it "low" forever and hoard grants.
                let low = slice.room < 2 * need
                let renew = slice.lastUsed.duration(to: now) < ttl / 2 && now.duration(to: slice.expiresAt) < ttl / 2
                guard low || renew else { continue }
                request = LeaseRequestMessage(agentID: agentID, budgetID: budgetID, windowStart: status.windowStart, leaseID: slice.leaseID,
                                              need: low ? need : 0, want: low ? max(0, target - slice.room) : 0)
            } else {
                // A new slice: what is in flight outside slices is charged to it, not reported
                // (kept from the first ask if that one went unanswered).
                if openings[budgetID]?.windowStart != status.windowStart || openings[budgetID]?.leaseID != nil {
                    let held = inFlight(budgetID)
                    openings[budgetID] = Opening(windowStart: status.windowStart, serial: serial, charge: held.amount, inFlight: held.count)
                }
                request = LeaseRequestMessage(agentID: agentID, budgetID: budgetID, windowStart: status.windowStart, leaseID: 0,
                                              need: need, want: target, unreflected: unreflected(status), basisSeq: basisSeq)
            }
            asking[budgetID] = Asking(leaseID: request.leaseID, sentAt: now)
            requests.append(request)
        }
        return requests
    }

    /// Whether a request refused on this budget for want of room can expect an answer soon:
    /// an ask is out and unanswered, or the next turn of the shipper sends one (none was
    /// refused within `askAgain`).
    func expectsAnswer(budgetID: String, now: ServiceClock.Instant) -> Bool {
        guard let asked = asking[budgetID] else { return true }
        return !asked.answered || asked.sentAt.duration(to: now) >= Self.askAgain
    }

    private func current(_ statuses: [BudgetStatus], _ budgetID: String) -> BudgetStatus? {
        statuses.first { $0.budgetID == budgetID }
    }

    private mutating func retire(_ budgetID: String, _ leaseID: UInt64) {
        retired[budgetID] = max(retired[budgetID] ?? 0, leaseID)
    }

    /// True when the budget's slice exists and is current (for the refusal's wording).
    func holds(budgetID: String) -> Bool { live[budgetID] != nil }
}
