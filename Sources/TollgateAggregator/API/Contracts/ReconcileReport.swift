import TollgateCore

/// The answer of `GET /v1/reconcile`, which `tollgate reconcile` prints: one row per UTC day,
/// provider, model and key, Tollgate's numbers beside the provider's own.
public struct ReconcileReport: Codable, Equatable, Sendable {
    /// The days compared: [since, until), both UTC midnights, Unix seconds.
    public var since: Int64
    public var until: Int64
    public var tolerance: ReconcileTolerance
    public var providers: [ProviderOutcome]
    public var rows: [ReconcileRow]

    public init(since: Int64, until: Int64, tolerance: ReconcileTolerance, providers: [ProviderOutcome], rows: [ReconcileRow]) {
        self.since = since
        self.until = until
        self.tolerance = tolerance
        self.providers = providers
        self.rows = rows
    }

    /// Whether every provider was read and every row matched.
    public var allMatch: Bool {
        providers.allSatisfy { $0.error == nil } && rows.allSatisfy { $0.status == .match }
    }
}

/// How reading one provider went: `match`, `differs`, or the error's outcome label.
public struct ProviderOutcome: Codable, Equatable, Sendable {
    public var provider: ReconcileProvider
    public var outcome: String
    public var pages: Int
    public var error: String?

    public init(provider: ReconcileProvider, outcome: String, pages: Int, error: String? = nil) {
        self.provider = provider
        self.outcome = outcome
        self.pages = pages
        self.error = error
    }
}

public enum ReconcileStatus: String, Codable, Sendable {
    /// Every compared class and the cost agree within the tolerance.
    case match
    /// Both sides have usage and at least one class or the cost is beyond the tolerance.
    case differs
    /// The provider reports usage or cost that Tollgate never metered.
    case missingInTollgate = "missing-in-tollgate"
    /// Tollgate metered usage that the provider does not report.
    case missingAtProvider = "missing-at-provider"
}

/// How a row's key was tied to the provider's key ids (see `KeyMatcher`).
public enum KeyMatch: String, Codable, Sendable {
    /// Through `reconcile.<provider>.keys`, naming Tollgate's key id.
    case mapped
    /// Through the same map, naming a hint's last four characters that exactly one of
    /// Tollgate's keys in the window has.
    case hint
    /// Every key neither side could tie to the other, compared per day and model.
    case unmapped
    /// The sum of a day and model's key rows, where the provider's cost is compared
    /// (cost reports do not split by key).
    case allKeys = "all"
}

public struct ReconcileRow: Codable, Equatable, Sendable {
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    public var provider: ReconcileProvider
    /// Normalised by `ReconcileModel` on both sides.
    public var model: String
    /// Tollgate's key id; empty for unmapped keys, `*` for a day and model's total.
    public var key: String
    public var keyHint: String?
    public var keyMatch: KeyMatch
    /// The provider's key ids that fell in this row.
    public var providerKeyIDs: [String]
    /// The classes the provider reports, as it reports them (in Tollgate's convention).
    public var providerTokens: [TokenClass: Int64]
    public var tollgateTokens: [TokenClass: Int64]
    public var providerRequests: Int64?
    public var tollgateRequests: Int64
    /// Nil when the provider's cost is compared on the day and model's `*` row instead.
    public var providerCost: Nanodollars?
    public var tollgateCost: Nanodollars
    /// Tollgate − provider, where the provider's cost is known.
    public var costDifference: Nanodollars?
    /// Of the provider's cost, in hundredths of a percent; nil when that cost is unknown or 0.
    public var costDifferenceBasisPoints: Int64?
    /// Tollgate − provider over the compared classes.
    public var tokenDifference: Int64
    public var status: ReconcileStatus
    /// What is beyond the tolerance, for humans (`output_tokens 1200 vs 1000`).
    public var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case day, provider, model, key
        case keyHint = "key_hint"
        case keyMatch = "key_match"
        case providerKeyIDs = "provider_key_ids"
        case providerTokens = "provider_tokens"
        case tollgateTokens = "tollgate_tokens"
        case providerRequests = "provider_requests"
        case tollgateRequests = "tollgate_requests"
        case providerCost = "provider_cost_nanousd"
        case tollgateCost = "tollgate_cost_nanousd"
        case costDifference = "difference_nanousd"
        case costDifferenceBasisPoints = "difference_basis_points"
        case tokenDifference = "token_difference"
        case status, reasons
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        day = try container.decode(String.self, forKey: .day)
        provider = try container.decode(ReconcileProvider.self, forKey: .provider)
        model = try container.decode(String.self, forKey: .model)
        key = try container.decode(String.self, forKey: .key)
        keyHint = try container.decodeIfPresent(String.self, forKey: .keyHint)
        keyMatch = try container.decode(KeyMatch.self, forKey: .keyMatch)
        providerKeyIDs = try container.decode([String].self, forKey: .providerKeyIDs)
        providerTokens = try Self.decodeTokens(container, .providerTokens)
        tollgateTokens = try Self.decodeTokens(container, .tollgateTokens)
        providerRequests = try container.decodeIfPresent(Int64.self, forKey: .providerRequests)
        tollgateRequests = try container.decode(Int64.self, forKey: .tollgateRequests)
        providerCost = try container.decodeIfPresent(Int64.self, forKey: .providerCost).map(Nanodollars.init)
        tollgateCost = Nanodollars(try container.decode(Int64.self, forKey: .tollgateCost))
        costDifference = try container.decodeIfPresent(Int64.self, forKey: .costDifference).map(Nanodollars.init)
        costDifferenceBasisPoints = try container.decodeIfPresent(Int64.self, forKey: .costDifferenceBasisPoints)
        tokenDifference = try container.decode(Int64.self, forKey: .tokenDifference)
        status = try container.decode(ReconcileStatus.self, forKey: .status)
        reasons = try container.decode([String].self, forKey: .reasons)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(day, forKey: .day)
        try container.encode(provider, forKey: .provider)
        try container.encode(model, forKey: .model)
        try container.encode(key, forKey: .key)
        try container.encodeIfPresent(keyHint, forKey: .keyHint)
        try container.encode(keyMatch, forKey: .keyMatch)
        try container.encode(providerKeyIDs, forKey: .providerKeyIDs)
        try container.encode(Dictionary(uniqueKeysWithValues: providerTokens.map { ($0.key.rawValue, $0.value) }), forKey: .providerTokens)
        try container.encode(Dictionary(uniqueKeysWithValues: tollgateTokens.map { ($0.key.rawValue, $0.value) }), forKey: .tollgateTokens)
        try container.encodeIfPresent(providerRequests, forKey: .providerRequests)
        try container.encode(tollgateRequests, forKey: .tollgateRequests)
        try container.encodeIfPresent(providerCost?.value, forKey: .providerCost)
        try container.encode(tollgateCost.value, forKey: .tollgateCost)
        try container.encodeIfPresent(costDifference?.value, forKey: .costDifference)
        try container.encodeIfPresent(costDifferenceBasisPoints, forKey: .costDifferenceBasisPoints)
        try container.encode(tokenDifference, forKey: .tokenDifference)
        try container.encode(status, forKey: .status)
        try container.encode(reasons, forKey: .reasons)
    }

    private static func decodeTokens(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [TokenClass: Int64] {
        let raw = try container.decode([String: Int64].self, forKey: key)
        var result: [TokenClass: Int64] = [:]
        for (name, value) in raw {
            guard let tokenClass = TokenClass(rawValue: name) else { continue }
            result[tokenClass] = value
        }
        return result
    }

    public init(day: String, provider: ReconcileProvider, model: String, key: String, keyHint: String?, keyMatch: KeyMatch,
                providerKeyIDs: [String], providerTokens: [TokenClass: Int64], tollgateTokens: [TokenClass: Int64],
                providerRequests: Int64?, tollgateRequests: Int64, providerCost: Nanodollars?, tollgateCost: Nanodollars,
                costDifference: Nanodollars?, costDifferenceBasisPoints: Int64?, tokenDifference: Int64,
                status: ReconcileStatus, reasons: [String]) {
        self.day = day
        self.provider = provider
        self.model = model
        self.key = key
        self.keyHint = keyHint
        self.keyMatch = keyMatch
        self.providerKeyIDs = providerKeyIDs
        self.providerTokens = providerTokens
        self.tollgateTokens = tollgateTokens
        self.providerRequests = providerRequests
        self.tollgateRequests = tollgateRequests
        self.providerCost = providerCost
        self.tollgateCost = tollgateCost
        self.costDifference = costDifference
        self.costDifferenceBasisPoints = costDifferenceBasisPoints
        self.tokenDifference = tokenDifference
        self.status = status
        self.reasons = reasons
    }
}
