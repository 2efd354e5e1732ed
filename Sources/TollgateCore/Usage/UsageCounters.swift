/// Sums over many requests: the value of a cell, a report row or a budget counter.
public struct UsageCounters: Hashable, Sendable, Codable {
    /// Requests that reached the provider; a request a budget refused counts in `blocked` only.
    public var requests: Int64 = 0
    public var tokens = TokenUsage.zero
    public var cost = Nanodollars.zero
    public var errors: Int64 = 0
    public var blocked: Int64 = 0
    public var estimated: Int64 = 0
    public var unpriced: Int64 = 0
    /// Requests a policy sent to another model (`UsageEvent.Flags.routed`).
    public var routed: Int64 = 0
    /// Sum of routed requests' `UsageEvent.routingSavings`: the cost routing avoided.
    public var routingSavings = Nanodollars.zero

    public init() {}

    public init(_ event: UsageEvent) {
        add(event)
    }

    public mutating func add(_ event: UsageEvent) {
        if !event.flags.contains(.blocked) { requests += 1 }
        tokens.add(event.tokens)
        cost += event.cost
        if event.flags.contains(.error) { errors += 1 }
        if event.flags.contains(.blocked) { blocked += 1 }
        if event.flags.contains(.estimated) { estimated += 1 }
        if event.flags.contains(.unpriced) { unpriced += 1 }
        if event.flags.contains(.routed) { routed += 1 }
        routingSavings += event.routingSavings
    }

    public mutating func add(_ other: UsageCounters) {
        requests += other.requests
        tokens.add(other.tokens)
        cost += other.cost
        errors += other.errors
        blocked += other.blocked
        estimated += other.estimated
        unpriced += other.unpriced
        routed += other.routed
        routingSavings += other.routingSavings
    }
}
