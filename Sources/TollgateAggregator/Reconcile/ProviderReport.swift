import TollgateCore

/// What one provider's admin API says was used and billed, per UTC day, read from every
/// page of its usage and cost reports. Token classes are already in Tollgate's convention
/// (input includes cache reads and writes; output includes reasoning); models are normalised
/// by `ReconcileModel`.
public struct ProviderReport: Equatable, Sendable {
    public var provider: ReconcileProvider
    /// Which token classes this provider's usage report carries; the others are not compared.
    public var reportedClasses: Set<TokenClass>
    public var usage: [Usage] = []
    /// Costs come per day and model only: neither provider's cost report splits by API key.
    public var costs: [Cost] = []
    /// Pages read, usage and cost together (at least one per endpoint).
    public var pages = 0

    public init(provider: ReconcileProvider, reportedClasses: Set<TokenClass>) {
        self.provider = provider
        self.reportedClasses = reportedClasses
    }

    public struct Usage: Equatable, Sendable {
        /// Unix seconds of the UTC midnight that starts the day.
        public var day: Int64
        public var model: String
        /// The provider's own id for the API key (`key_…`, `apikey_…`); nil when not given.
        public var providerKeyID: String?
        public var tokens: TokenUsage
        /// OpenAI counts requests (`num_model_requests`); Anthropic's report does not.
        public var requests: Int64?

        public init(day: Int64, model: String, providerKeyID: String?, tokens: TokenUsage, requests: Int64?) {
            self.day = day
            self.model = model
            self.providerKeyID = providerKeyID
            self.tokens = tokens
            self.requests = requests
        }
    }

    public struct Cost: Equatable, Sendable {
        public var day: Int64
        /// The model a cost line names; a cost that is not for tokens (web search, code
        /// execution) keeps its own label, and then shows as missing in Tollgate.
        public var model: String
        public var amount: Nanodollars

        public init(day: Int64, model: String, amount: Nanodollars) {
            self.day = day
            self.model = model
            self.amount = amount
        }
    }
}

/// A token class as the reconciliation names it in JSON and tables.
public enum TokenClass: String, CaseIterable, Sendable, Codable, Comparable {
    case input = "input_tokens"
    case cachedInput = "cached_input_tokens"
    case cacheWrite = "cache_write_tokens"
    case output = "output_tokens"

    func value(in tokens: TokenUsage) -> Int64 {
        switch self {
        case .input: tokens.input
        case .cachedInput: tokens.cachedInput
        case .cacheWrite: tokens.cacheWrite
        case .output: tokens.output
        }
    }

    public static func < (a: TokenClass, b: TokenClass) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
