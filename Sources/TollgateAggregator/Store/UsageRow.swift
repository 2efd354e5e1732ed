import TollgateCore

/// One group of a usage report as the HTTP API and `tollgate usage --format json` give it:
/// the grouped dimensions by name, then the sums. Cost is exact in `cost_nanousd` and
/// repeated as a decimal string in `cost_usd` so no consumer needs floating point.
public struct UsageRow: Equatable, Sendable {
    public var dimensions: [UsageDimension: String]
    public var keyHint: String?
    /// The key's name from its label (`tollgate keys label`), when grouped by key and labelled.
    public var keyName: String?
    public var counters: UsageCounters
    /// The start of the row's time bucket (RFC 3339, UTC) in a series (`every=`); nil otherwise.
    public var bucket: String?
    /// Set only on the row that folds the groups a `top=N` query left out (per bucket in a
    /// series): how many groups it sums. It has no dimension values, and keeps totals whole.
    public var otherGroups: Int?
    /// The served model's tier (premium, standard, economy, untiered) when grouped by `tier`.
    public var tier: String?

    public init(dimensions: [UsageDimension: String], keyHint: String?, counters: UsageCounters, bucket: String? = nil,
                otherGroups: Int? = nil) {
        self.dimensions = dimensions
        self.keyHint = keyHint
        self.counters = counters
        self.bucket = bucket
        self.otherGroups = otherGroups
    }

    public init(_ group: UsageGroup, by dimensions: [UsageDimension]) {
        var values: [UsageDimension: String] = [:]
        for dimension in dimensions { values[dimension] = group.dimensions[dimension] }
        self.init(dimensions: values, keyHint: dimensions.contains(.key) ? group.dimensions.keyHint : nil, counters: group.counters,
                  bucket: group.bucketStartMinute.map(CivilDate.rfc3339))
    }
}

extension UsageRow: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        if let bucket { try container.encode(bucket, forKey: Key("bucket")) }
        for dimension in UsageDimension.allCases {
            if let value = dimensions[dimension] { try container.encode(value, forKey: Key(dimension.rawValue)) }
        }
        if let tier { try container.encode(tier, forKey: Key("tier")) }
        if let keyHint { try container.encode(keyHint, forKey: Key("key_hint")) }
        if let otherGroups { try container.encode(otherGroups, forKey: Key("other_groups")) }
        if let keyName { try container.encode(keyName, forKey: Key("key_name")) }
        try container.encode(counters.requests, forKey: Key("requests"))
        try container.encode(counters.tokens.input, forKey: Key("input_tokens"))
        try container.encode(counters.tokens.cachedInput, forKey: Key("cached_input_tokens"))
        try container.encode(counters.tokens.cacheWrite, forKey: Key("cache_write_tokens"))
        try container.encode(counters.tokens.cacheWrite1h, forKey: Key("cache_write_1h_tokens"))
        try container.encode(counters.tokens.output, forKey: Key("output_tokens"))
        try container.encode(counters.tokens.reasoning, forKey: Key("reasoning_tokens"))
        try container.encode(counters.errors, forKey: Key("errors"))
        try container.encode(counters.blocked, forKey: Key("blocked"))
        try container.encode(counters.estimated, forKey: Key("estimated"))
        try container.encode(counters.unpriced, forKey: Key("unpriced"))
        try container.encode(counters.cost.value, forKey: Key("cost_nanousd"))
        try container.encode(counters.cost.decimalUSD, forKey: Key("cost_usd"))
        try container.encode(counters.routed, forKey: Key("routed"))
        try container.encode(counters.routingSavings.value, forKey: Key("routing_savings_nanousd"))
        try container.encode(counters.routingSavings.decimalUSD, forKey: Key("routing_savings_usd"))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var values: [UsageDimension: String] = [:]
        for dimension in UsageDimension.allCases {
            if let value = try container.decodeIfPresent(String.self, forKey: Key(dimension.rawValue)) { values[dimension] = value }
        }
        var counters = UsageCounters()
        func int(_ name: String) throws -> Int64 { try container.decodeIfPresent(Int64.self, forKey: Key(name)) ?? 0 }
        counters.requests = try int("requests")
        counters.tokens = TokenUsage(input: try int("input_tokens"), cachedInput: try int("cached_input_tokens"),
                                     cacheWrite: try int("cache_write_tokens"), cacheWrite1h: try int("cache_write_1h_tokens"),
                                     output: try int("output_tokens"),
                                     reasoning: try int("reasoning_tokens"))
        counters.errors = try int("errors")
        counters.blocked = try int("blocked")
        counters.estimated = try int("estimated")
        counters.unpriced = try int("unpriced")
        counters.cost = Nanodollars(try int("cost_nanousd"))
        counters.routed = try int("routed")
        counters.routingSavings = Nanodollars(try int("routing_savings_nanousd"))
        self.init(dimensions: values, keyHint: try container.decodeIfPresent(String.self, forKey: Key("key_hint")), counters: counters,
                  bucket: try container.decodeIfPresent(String.self, forKey: Key("bucket")),
                  otherGroups: try container.decodeIfPresent(Int.self, forKey: Key("other_groups")))
        keyName = try container.decodeIfPresent(String.self, forKey: Key("key_name"))
        tier = try container.decodeIfPresent(String.self, forKey: Key("tier"))
    }
}
