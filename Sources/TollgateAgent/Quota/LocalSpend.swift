import TollgateCore

/// This agent's own spend that the pushed `spent` values do not include yet, kept exactly
/// rather than guessed by time.
///
/// Spend moves through three places, and is counted in exactly one at any moment:
/// 1. **uncut**: settled when a response ended, under a ticket the usage event carries
///    through the ring to the shipper (settled *before* the event enters the ring, so
///    the shipper can never see a ticket the ledger does not hold);
/// 2. **cut**: the shipper cut the event into batch `seq` (`cut(seq:tickets:)`);
/// 3. **counted**: a quota update's watermark for this agent reached `seq`, in the same
///    message as `spent` values that include the batch: it is dropped here.
/// Amounts are kept per budget and per minute (the cell's minute, which is how the
/// aggregator assigns spend to a window), so spend from a window that has ended never
/// counts in the next.
struct LocalSpend: Equatable {
    /// One budget's amount in one minute.
    struct Slot: Hashable {
        var budgetID: String
        var minute: Int64
    }

    typealias Amounts = [Slot: Int64]

    /// Names one settled event's amounts until the shipper cuts it into a batch; 0 is none.
    typealias Ticket = UInt64

    private(set) var uncut: [Ticket: Amounts] = [:]
    private(set) var cut: [UInt64: Amounts] = [:]
    /// The oldest ticket each cut batch holds: which batches a lease waits on.
    private var cutFirstTicket: [UInt64: Ticket] = [:]
    /// uncut + cut per budget and minute: what decisions read.
    private var totals: [String: [Int64: Int64]] = [:]
    private var lastTicket: Ticket = 0
    /// The last watermark received for this agent; batches up to it are in the pushed spend.
    private(set) var watermark: UInt64?

    /// Holds `amounts` until cut; returns the ticket for the event (0 when there is nothing to hold).
    mutating func settle(_ amounts: Amounts) -> Ticket {
        let amounts = amounts.filter { $0.value != 0 }
        guard !amounts.isEmpty else { return 0 }
        lastTicket += 1
        uncut[lastTicket] = amounts
        add(amounts, sign: 1)
        return lastTicket
    }

    /// The shipper cut the events holding `tickets` into batch `seq`.
    mutating func cut(seq: UInt64, tickets: [Ticket]) {
        var moved: Amounts = [:]
        for ticket in tickets where ticket != 0 {
            guard let amounts = uncut.removeValue(forKey: ticket) else { continue }
            moved.merge(amounts, uniquingKeysWith: +)
        }
        guard !moved.isEmpty else { return }
        let first = tickets.filter { $0 != 0 }.min() ?? 0
        // A watermark already past this seq (the aggregator had it before we heard of
        // the cut, as after a restart with an older state dir) means it is counted.
        if let watermark, seq <= watermark {
            add(moved, sign: -1)
            return
        }
        cut[seq, default: [:]].merge(moved, uniquingKeysWith: +)
        cutFirstTicket[seq] = min(cutFirstTicket[seq] ?? first, first)
    }

    /// The aggregator's `spent` values include every batch up to `seq`: stop counting them.
    mutating func counted(through seq: UInt64) {
        watermark = seq
        for batch in cut.keys where batch <= seq {
            if let amounts = cut.removeValue(forKey: batch) { add(amounts, sign: -1) }
            cutFirstTicket[batch] = nil
        }
    }

    /// Batches after this seq that the aggregator has committed are counted both in its `spent`
    /// and here: this agent's watermark, or just below the oldest batch it holds (batches
    /// recovered from the spool at a restart are not held here, and are older). `.max` when
    /// nothing cut is held, so nothing can be counted twice.
    var overlapBasis: UInt64 {
        guard let oldest = cut.keys.min() else { return .max }
        return max(watermark ?? 0, oldest - 1)
    }

    /// The newest ticket handed out (0 before the first).
    var newestTicket: Ticket { lastTicket }

    /// Whether any spend settled under a ticket up to `ticket` is not counted by the
    /// aggregator's pushed state yet.
    func holds(ticketsThrough ticket: Ticket) -> Bool {
        uncut.keys.contains { $0 <= ticket } || cutFirstTicket.values.contains { $0 <= ticket }
    }

    /// Local spend on `budgetID` in minutes [`fromMinute`, `toMinute`) (`toMinute` nil: no end).
    func amount(budgetID: String, fromMinute: Int64, toMinute: Int64?) -> Int64 {
        guard let minutes = totals[budgetID] else { return 0 }
        var sum: Int64 = 0
        for (minute, amount) in minutes where minute >= fromMinute && minute < (toMinute ?? .max) { sum &+= amount }
        return sum
    }

    /// True when nothing is held (tests; and a cheap check for `/status`).
    var isEmpty: Bool { uncut.isEmpty && cut.isEmpty }

    private mutating func add(_ amounts: Amounts, sign: Int64) {
        for (slot, amount) in amounts {
            var minutes = totals[slot.budgetID] ?? [:]
            let after = minutes[slot.minute, default: 0] &+ sign &* amount
            minutes[slot.minute] = after == 0 ? nil : after
            totals[slot.budgetID] = minutes.isEmpty ? nil : minutes
        }
    }
}
