import TollgateCore

/// One cell of an encoded `UsageBatch`, read in place: each dimension is a view of its
/// UTF-8 bytes (already validated) in the buffer being read, valid only during the
/// `UsageBatchReader.forEachCell` call that produced it.
public struct RawCell {
    public var minute: Int64 = 0
    public var dimensions = DimensionBytes()
    public var counters = UsageCounters()

    public var cell: Cell {
        var result = Dimensions()
        func string(_ index: Int) -> String { String(decoding: dimensions[index], as: UTF8.self) }
        result.keyID = string(0)
        result.keyHint = string(1)
        result.provider = string(2)
        result.model = string(3)
        result.endpoint = string(4)
        result.team = string(5)
        result.project = string(6)
        result.user = string(7)
        result.useCase = string(8)
        result.environment = string(9)
        result.host = string(10)
        result.servedModel = string(11)
        result.requestedModel = string(12)
        return Cell(key: CellKey(minute: minute, dimensions: result), counters: counters)
    }
}

/// The UTF-8 bytes of a cell's thirteen dimensions, indexed by proto field number minus one,
/// which is also `Dimensions`' stored order (key id, key hint, provider, model, endpoint,
/// team, project, user, use case, environment, host, served model, requested model).
///
/// Named fields behind a switch rather than an `InlineArray`: in this compiler an
/// `InlineArray` subscript copied the whole array on every access.
public struct DimensionBytes {
    // Inlinable, so the store's per-cell loop reads a field without a call.
    @usableFromInline var keyID = Self.empty, keyHint = Self.empty, provider = Self.empty, model = Self.empty
    @usableFromInline var endpoint = Self.empty, team = Self.empty, project = Self.empty, user = Self.empty
    @usableFromInline var useCase = Self.empty, environment = Self.empty, host = Self.empty
    @usableFromInline var servedModel = Self.empty, requestedModel = Self.empty
    /// Points at nothing, so there is no memory to share: safe from any thread.
    @usableFromInline nonisolated(unsafe) static let empty = UnsafeRawBufferPointer(start: nil, count: 0)

    public init() {}

    /// Each field in stored order: the store's per-cell loop, without a switch per field.
    @inlinable
    public func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        body(keyID); body(keyHint); body(provider); body(model); body(endpoint); body(team)
        body(project); body(user); body(useCase); body(environment); body(host)
        body(servedModel); body(requestedModel)
    }

    /// The bytes of all fields together.
    @inlinable
    public var totalCount: Int {
        keyID.count + keyHint.count + provider.count + model.count + endpoint.count + team.count
            + project.count + user.count + useCase.count + environment.count + host.count
            + servedModel.count + requestedModel.count
    }

    @inlinable
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        get {
            switch index {
            case 0: keyID
            case 1: keyHint
            case 2: provider
            case 3: model
            case 4: endpoint
            case 5: team
            case 6: project
            case 7: user
            case 8: useCase
            case 9: environment
            case 10: host
            case 11: servedModel
            default: requestedModel
            }
        }
        set {
            switch index {
            case 0: keyID = newValue
            case 1: keyHint = newValue
            case 2: provider = newValue
            case 3: model = newValue
            case 4: endpoint = newValue
            case 5: team = newValue
            case 6: project = newValue
            case 7: user = newValue
            case 8: useCase = newValue
            case 9: environment = newValue
            case 10: host = newValue
            case 11: servedModel = newValue
            default: requestedModel = newValue
            }
        }
    }
}

/// Reads the cells of an encoded `UsageBatch` (proto/tollgate.proto) without the
/// generated messages.
///
/// The aggregator reads every cell of every batch; through the generated messages that
/// cost more than committing the cells (a storage object per message, then strings copied
/// into the domain types). `forEachCell` hands out views of the bytes instead, which the
/// store encodes into its keys directly. The reader follows the same protobuf rules as
/// swift-protobuf, and `UsageBatchReaderTests` holds it to that on valid, hand-crafted
/// and corrupted input:
/// - unknown fields are skipped (a newer agent may send more), groups included;
/// - a known field that arrives with another wire type is skipped as unknown;
/// - the last value of a scalar wins, and an embedded message that appears twice is merged;
/// - strings must be UTF-8; truncated input, bad varints and field number 0 are errors.
public enum UsageBatchReader {
    /// The cells as domain values.
    public static func cells(_ bytes: UnsafeRawBufferPointer) throws(ProtobufError) -> [Cell] {
        var cells: [Cell] = []
        try forEachCell(bytes) { cells.append($0.cell) }
        return cells
    }

    /// Calls `body` with every cell in order. When it throws, the cells already handed out
    /// belong to a malformed batch: the caller must drop them all (the store drops the
    /// WriteBatch it was building).
    public static func forEachCell(_ bytes: UnsafeRawBufferPointer, _ body: (RawCell) -> Void) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            if field == 1, wireType == .lengthDelimited {
                var cell = RawCell()
                try readCell(try reader.lengthDelimited(), into: &cell)
                body(cell)
            } else {
                try reader.skip(field: field, wireType)
            }
        }
    }

    private static func readCell(_ bytes: UnsafeRawBufferPointer, into cell: inout RawCell) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, .varint): cell.minute = Int64(bitPattern: try reader.varint())
            case (2, .lengthDelimited): try readDimensions(try reader.lengthDelimited(), into: &cell.dimensions)
            case (3, .lengthDelimited): try readCounters(try reader.lengthDelimited(), into: &cell.counters)
            default: try reader.skip(field: field, wireType)
            }
        }
    }

    private static func readDimensions(_ bytes: UnsafeRawBufferPointer,
                                       into dimensions: inout DimensionBytes) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            guard wireType == .lengthDelimited, (1...13).contains(field) else {
                try reader.skip(field: field, wireType)
                continue
            }
            dimensions[field - 1] = try reader.utf8()
        }
    }

    /// Unsigned counters are clamped into Int64 the way `Tollgate_V1_Counters.domainCounters` does.
    private static func readCounters(_ bytes: UnsafeRawBufferPointer, into counters: inout UsageCounters) throws(ProtobufError) {
        var reader = ProtobufReader(bytes)
        while let (field, wireType) = try reader.nextField() {
            guard wireType == .varint, (1...14).contains(field) else {
                try reader.skip(field: field, wireType)
                continue
            }
            let raw = try reader.varint()
            let value = Int64(clamping: raw)
            switch field {
            case 1: counters.requests = value
            case 2: counters.tokens.input = value
            case 3: counters.tokens.cachedInput = value
            case 4: counters.tokens.cacheWrite = value
            case 5: counters.tokens.output = value
            case 6: counters.tokens.reasoning = value
            case 7: counters.cost = Nanodollars(Int64(bitPattern: raw))
            case 8: counters.errors = value
            case 9: counters.blocked = value
            case 10: counters.estimated = value
            case 11: counters.unpriced = value
            case 12: counters.tokens.cacheWrite1h = value
            case 13: counters.routed = value
            default: counters.routingSavings = Nanodollars(Int64(bitPattern: raw))
            }
        }
    }
}
