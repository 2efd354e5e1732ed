/// One metered request, as the proxy hands it to the meter.
public struct UsageEvent: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The upstream answered with an error status.
        public static let error = Flags(rawValue: 1 << 0)
        /// Tokens were estimated because the provider never reported usage.
        public static let estimated = Flags(rawValue: 1 << 1)
        /// The model had no price; cost came from the fallback rule.
        public static let unpriced = Flags(rawValue: 1 << 2)
        /// Tollgate refused the request.
        public static let blocked = Flags(rawValue: 1 << 3)
        /// A policy sent the request to another model than the one it asked for.
        public static let routed = Flags(rawValue: 1 << 4)
    }

    /// Seconds since the Unix epoch when the request completed.
    public var unixTime: Int64
    public var dimensions: Dimensions
    public var tokens: TokenUsage
    public var cost: Nanodollars
    public var flags: Flags
    /// A routed request: what it would have cost at the requested model's price minus
    /// `cost` (negative when the route made it dearer). Zero otherwise.
    public var routingSavings: Nanodollars

    public init(unixTime: Int64, dimensions: Dimensions, tokens: TokenUsage, cost: Nanodollars, flags: Flags = [],
                routingSavings: Nanodollars = .zero) {
        self.unixTime = unixTime
        self.dimensions = dimensions
        self.tokens = tokens
        self.cost = cost
        self.flags = flags
        self.routingSavings = routingSavings
    }

    /// Minutes since the Unix epoch: the time bucket of the cell this event folds into.
    public var minute: Int64 { unixTime >= 0 ? unixTime / 60 : (unixTime - 59) / 60 }
}
