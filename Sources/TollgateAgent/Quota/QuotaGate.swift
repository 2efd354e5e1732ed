import Foundation
import TollgateCore
import TollgateProviders

/// Decides, before a request is forwarded, whether the budgets it falls under let it
/// through. Far from a limit that is one lookup; near one, the request's worst-case cost
/// (estimated input plus its maximum output at the model's price) must fit in what remains,
/// and is reserved until the response settles it.
struct QuotaGate: Sendable {
    struct Settings: Sendable, Equatable {
        var enforcement = Enforcement.enforce
        var onStale = OnStale.allow
        /// With no update from the aggregator for this long, the cached state is stale.
        var staleAfter = Duration.seconds(30)
        /// The output a request without `max_tokens` is assumed to be able to produce.
        var defaultMaxOutputTokens = 32_768
        /// No snapshot this long after start: the agent warns that it enforces nothing.
        var firstSnapshotTimeout = Duration.seconds(5)
    }

    enum Enforcement: String, Sendable {
        case enforce
        /// Block nothing; count and log what would have been blocked.
        case observe
    }

    enum OnStale: String, Sendable {
        /// Keep enforcing the last known state plus local spend.
        case allow
        /// Refuse every metered request until the aggregator is heard from again.
        case deny
    }

    /// Why a request may not go through.
    struct Refusal: Equatable {
        /// The budget that refused it; nil when the quota state is stale under `on_stale: deny`.
        var budget: BudgetStatus?
        var retryAfterSeconds: Int64
        var message: String
        /// Refused because this agent's slice of a leased budget had no room for it.
        var leased = false
        /// Set when this host has asked (or is about to ask) the aggregator for more of that
        /// budget: the request may wait for the answer (`LeaseWait`) instead of being refused.
        var awaiting: LeaseWait?
    }

    /// A request refused for want of room in a slice while an ask for more is under way: it
    /// is decided again once an answer about the budget arrives (or `limit` passes), so a
    /// host whose slice ran dry does not refuse what the aggregator is about to grant it.
    struct LeaseWait: Equatable {
        var budgetID: String
        /// Answers about the budget received when the request was refused.
        var answers: UInt64
        /// How long a request waits for an answer at most: an ask unanswered this long is sent again.
        static let limit = LeaseSlices.askAgain
    }

    enum Decision {
        case admit(QuotaBook.Reservation)
        case refuse(Refusal)
    }

    let book: QuotaBook
    let settings: Settings
    let prices: PriceCatalog

    /// The decision for one request. What would refuse it but is only watched (an observe
    /// budget; anything, when the agent's `quota.enforcement` is observe) comes back as
    /// `observed`, every such budget once, and is counted in the book for the fleet report;
    /// a request an enforced budget refuses counts for no observe budget (it was not sent).
    func decide(_ request: ProviderRequest, dimensions: Dimensions, requestBodyBytes: Int,
                now: Date? = nil) -> (decision: Decision, observed: [Refusal]) {
        let nowUnix = Int64((now ?? book.clock.date).timeIntervalSince1970)
        let standings = book.standings(for: dimensions, nowUnix: nowUnix).sorted { $0.status.budgetID < $1.status.budgetID }
        // A leased budget admits only within this agent's slice; what only observes (the
        // agent's quota.enforcement, or the budget's own mode) enforces nothing, so takes none.
        let leases = settings.enforcement == .enforce
        func isLeased(_ status: BudgetStatus) -> Bool { leases && status.mode != .observe && status.leased && nowUnix < status.windowEnd }
        let refusals = refusals(for: request, standings: standings, requestBodyBytes: requestBodyBytes, nowUnix: nowUnix, isLeased: isLeased)
        if settings.enforcement == .enforce, let enforced = refusals.first(where: { $0.budget?.mode != .observe }) {
            return (.refuse(enforced), [])
        }
        let capped = standings.map(\.status).filter { $0.blockAt != nil }
        let outcome = book.reserve(capped, amount: { status in
            isLeased(status) ? leasedWorstCase(request, unit: status.unit, requestBodyBytes: requestBodyBytes)
                : worstCase(request, unit: status.unit, requestBodyBytes: requestBodyBytes)
        }, leased: isLeased)
        switch outcome {
        case .reserved(let reservation):
            for refusal in refusals { if let status = refusal.budget { book.countWouldBlock(status, nowUnix: nowUnix) } }
            return (.admit(reservation), refusals)
        case .noRoom(let status, let worst, let holdsSlice, let awaiting):
            return (.refuse(Refusal(budget: status, retryAfterSeconds: 1, message: Self.explainLeased(status, worst: worst, holdsSlice: holdsSlice),
                                    leased: true, awaiting: awaiting.map { LeaseWait(budgetID: status.budgetID, answers: $0) })), [])
        }
    }

    /// The worst case on a leased budget, where it must be a true upper bound (the fleet's
    /// overshoot is bounded by how far a cost exceeds it): input counted as one token per
    /// byte of the request body, which no text tokenizer exceeds, instead of the estimate.
    func leasedWorstCase(_ request: ProviderRequest, unit: BudgetUnit, requestBodyBytes: Int) -> Int64 {
        worstCase(request, unit: unit, requestBodyBytes: requestBodyBytes, inputTokens: Int64(requestBodyBytes))
    }

    static func explainLeased(_ status: BudgetStatus, worst: Int64, holdsSlice: Bool) -> String {
        let unit = status.unit
        let scope = status.selector.isAll ? "the whole organisation" : status.selector.description
        // A request counts 1 whatever its size: max_tokens advice would mislead.
        let advice = unit == .requests ? "" : "; set a lower max_tokens to fit"
        let share = holdsSlice ? "this host's share of what remains has no room for this request's worst case (\(unit.format(worst))\(advice))"
            : "this host holds no share of what remains"
        let owner = status.owner.isEmpty ? "the budget's owner" : status.owner
        return "Tollgate: budget '\(status.budgetID)' (\(unit.format(status.effectiveLimit)) per \(status.period.rawValue) for \(scope)) is nearly spent, so what remains is shared out between hosts, and \(share). This host has asked the aggregator for more: retry in a second. Ask \(owner) to raise it: tollgate budget exempt \(status.budgetID)."
    }

    /// Every refusal the request meets, in budget id order: stale state under `on_stale:
    /// deny` first, then each budget, whatever its mode, that does not let it through.
    ///
    /// On a leased budget the request's slice must fit its leased worst case; one that exceeds
    /// even everything the budget has left (all spent but ours in flight: they may settle for
    /// less) can never be admitted in this window, so it is refused by the budget itself, not
    /// with "retry in a second": otherwise a remainder split between hosts, each share too small
    /// and the whole too small, would have every host ask for more forever.
    private func refusals(for request: ProviderRequest, standings: [QuotaBook.Standing], requestBodyBytes: Int, nowUnix: Int64,
                          isLeased: (BudgetStatus) -> Bool) -> [Refusal] {
        var refusals: [Refusal] = []
        let silence = book.silence
        if settings.onStale == .deny, silence.map({ $0 > settings.staleAfter }) ?? true {
            let since = silence.map { "for \($0.components.seconds) s" } ?? "since the agent started"
            refusals.append(Refusal(budget: nil, retryAfterSeconds: 30,
                                    message: "Tollgate: no budget update from the aggregator \(since), and this host is set to refuse requests then (quota.on_stale: deny). Ask your platform team to check the aggregator."))
        }
        for standing in standings {
            guard let blockAt = standing.status.blockAt else { continue }
            let status = standing.status
            let leased = !standing.windowEnded && isLeased(status)
            let worst = leased ? leasedWorstCase(request, unit: status.unit, requestBodyBytes: requestBodyBytes)
                : worstCase(request, unit: status.unit, requestBodyBytes: requestBodyBytes)
            let line = leased ? standing.settled : standing.projected
            let exhausted = !standing.windowEnded && status.isBlocking
            guard exhausted || line + worst > blockAt else { continue }
            refusals.append(Refusal(budget: status, retryAfterSeconds: max(1, status.windowEnd - nowUnix),
                                    message: Self.explain(status, projected: line, worst: worst, exhausted: exhausted, nowUnix: nowUnix)))
        }
        return refusals
    }

    /// The most this request can add to a budget in `unit`.
    func worstCase(_ request: ProviderRequest, unit: BudgetUnit, requestBodyBytes: Int, inputTokens: Int64? = nil) -> Int64 {
        let input = inputTokens ?? estimatedTokens(characters: requestBodyBytes)
        let output = request.endpoint == .embeddings ? 0 : request.maxOutputTokens ?? Int64(settings.defaultMaxOutputTokens)
        switch unit {
        case .requests:
            return 1
        case .tokens:
            return input + output
        case .usd:
            let price = switch prices.lookup(request.model ?? "") {
            case .priced(_, let price): price
            case .unpriced(let fallback): fallback
            }
            return price.cost(of: TokenUsage(input: input, output: output)).value
        }
    }

    /// What the engineer reads in the SDK's exception: which budget, how much, until when,
    /// and whom to ask.
    static func explain(_ status: BudgetStatus, projected: Int64, worst: Int64, exhausted: Bool, nowUnix: Int64) -> String {
        let unit = status.unit
        let scope = status.selector.isAll ? "the whole organisation" : status.selector.description
        let resets = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(status.windowEnd)))
        let left = max(0, (status.blockAt ?? 0) - projected)
        let why: String
        if exhausted {
            why = "is used up: \(unit.format(status.spent)) of \(unit.format(status.blockAt ?? status.effectiveLimit)) spent"
        } else if unit == .requests {
            // A request counts 1 whatever its size: max_tokens advice would mislead.
            why = "has no requests left: \(unit.format(min(projected, status.blockAt ?? projected))) of \(unit.format(status.blockAt ?? status.effectiveLimit)) are spent or in flight"
        } else {
            why = "has \(unit.format(left)) left and this request could use up to \(unit.format(worst)) (set a lower max_tokens to fit)"
        }
        let owner = status.owner.isEmpty ? "the budget's owner" : status.owner
        return "Tollgate: budget '\(status.budgetID)' (\(unit.format(status.effectiveLimit)) per \(status.period.rawValue) for \(scope)) \(why). It resets at \(resets) (in \(formatDuration(status.windowEnd - nowUnix))). Ask \(owner) to raise it: tollgate budget exempt \(status.budgetID)."
    }

    private static func formatDuration(_ seconds: Int64) -> String {
        let seconds = max(0, seconds)
        if seconds >= 86_400 { return "\(seconds / 86_400)d \((seconds % 86_400) / 3600)h" }
        if seconds >= 3600 { return "\(seconds / 3600)h \((seconds % 3600) / 60)m" }
        if seconds >= 60 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds)s"
    }
}
