import TollgateCore

/// Conversions between the domain's cells and their protobuf messages.
extension Tollgate_V1_Cell {
    public init(_ cell: Cell) {
        self.init()
        minute = cell.key.minute
        dimensions = Tollgate_V1_Dimensions(cell.key.dimensions)
        counters = Tollgate_V1_Counters(cell.counters)
    }

    public var domainCell: Cell {
        Cell(key: CellKey(minute: minute, dimensions: dimensions.domainDimensions), counters: counters.domainCounters)
    }
}

extension Tollgate_V1_Dimensions {
    public init(_ dimensions: Dimensions) {
        self.init()
        keyID = dimensions.keyID
        keyHint = dimensions.keyHint
        provider = dimensions.provider
        model = dimensions.model
        endpoint = dimensions.endpoint
        team = dimensions.team
        project = dimensions.project
        user = dimensions.user
        useCase = dimensions.useCase
        environment = dimensions.environment
        host = dimensions.host
        servedModel = dimensions.servedModel
        requestedModel = dimensions.requestedModel
    }

    public var domainDimensions: Dimensions {
        var result = Dimensions()
        result.keyID = keyID
        result.keyHint = keyHint
        result.provider = provider
        result.model = model
        result.endpoint = endpoint
        result.team = team
        result.project = project
        result.user = user
        result.useCase = useCase
        result.environment = environment
        result.host = host
        result.servedModel = servedModel
        result.requestedModel = requestedModel
        return result
    }
}

extension Tollgate_V1_Counters {
    public init(_ counters: UsageCounters) {
        self.init()
        requests = UInt64(clamping: counters.requests)
        inputTokens = UInt64(clamping: counters.tokens.input)
        cachedInputTokens = UInt64(clamping: counters.tokens.cachedInput)
        cacheWriteTokens = UInt64(clamping: counters.tokens.cacheWrite)
        cacheWrite1HTokens = UInt64(clamping: counters.tokens.cacheWrite1h)
        outputTokens = UInt64(clamping: counters.tokens.output)
        reasoningTokens = UInt64(clamping: counters.tokens.reasoning)
        costNanousd = counters.cost.value
        errors = UInt64(clamping: counters.errors)
        blocked = UInt64(clamping: counters.blocked)
        estimated = UInt64(clamping: counters.estimated)
        unpriced = UInt64(clamping: counters.unpriced)
        routed = UInt64(clamping: counters.routed)
        routingSavingsNanousd = counters.routingSavings.value
    }

    public var domainCounters: UsageCounters {
        var result = UsageCounters()
        result.requests = Int64(clamping: requests)
        result.tokens = TokenUsage(
            input: Int64(clamping: inputTokens), cachedInput: Int64(clamping: cachedInputTokens),
            cacheWrite: Int64(clamping: cacheWriteTokens), cacheWrite1h: Int64(clamping: cacheWrite1HTokens),
            output: Int64(clamping: outputTokens),
            reasoning: Int64(clamping: reasoningTokens))
        result.cost = Nanodollars(costNanousd)
        result.errors = Int64(clamping: errors)
        result.blocked = Int64(clamping: blocked)
        result.estimated = Int64(clamping: estimated)
        result.unpriced = Int64(clamping: unpriced)
        result.routed = Int64(clamping: routed)
        result.routingSavings = Nanodollars(routingSavingsNanousd)
        return result
    }
}
