import Testing
import TollgateCore
@testable import TollgateAggregator

@Suite struct CellKeyCodecTests {
    static func dimensions(key: String = "k1", model: String = "gpt-4o") -> Dimensions {
        var dimensions = Dimensions()
        dimensions.keyID = key
        dimensions.keyHint = "sk-…wxyz"
        dimensions.provider = "openai"
        dimensions.model = model
        dimensions.endpoint = "/v1/chat/completions"
        dimensions.team = "ünïcødé-团队"
        dimensions.project = "🚀 launch"
        dimensions.user = ""
        dimensions.useCase = "support"
        dimensions.environment = "prod"
        dimensions.host = "web-1"
        dimensions.servedModel = model + "-2024-08-06"
        dimensions.requestedModel = "models/" + model
        return dimensions
    }

    @Test(arguments: [Int64.min, -1_000_000, -1, 0, 1, 29_000_000, Int64.max])
    func cellKeyRoundTrips(minute: Int64) throws {
        let key = CellKey(minute: minute, dimensions: Self.dimensions())
        #expect(try CellKeyCodec.decode(CellKeyCodec.encode(key)) == key)
    }

    @Test func servedAndRequestedModelAreStoredAfterTheFormat1Fields() throws {
        let encoded = CellKeyCodec.encode(CellKey(minute: 1, dimensions: Self.dimensions()))
        let tail = Array("\u{0}\u{11}gpt-4o-2024-08-06\u{0}\u{d}models/gpt-4o".utf8)
        #expect(Array(encoded.suffix(tail.count)) == tail)
    }

    /// Keys written before served and requested model existed (11 fields) still read, with both empty.
    @Test func format1KeysStillDecode() throws {
        var dimensions = Self.dimensions()
        dimensions.servedModel = ""
        dimensions.requestedModel = ""
        let format2 = CellKeyCodec.encode(CellKey(minute: 42, dimensions: dimensions))
        let format1 = Array(format2.dropLast(4))  // the two empty fields' lengths
        #expect(try CellKeyCodec.decode(format1) == CellKey(minute: 42, dimensions: dimensions))
        #expect(throws: StoreError.self) { try CellKeyCodec.decode(Array(format2.dropLast(2))) }
    }

    @Test func emptyDimensionsRoundTrip() throws {
        let key = CellKey(minute: -5, dimensions: Dimensions())
        #expect(try CellKeyCodec.decode(CellKeyCodec.encode(key)) == key)
    }

    @Test func keysSortByMinuteIncludingNegativeMinutes() {
        let minutes: [Int64] = [Int64.min, -60, -1, 0, 1, 59, 29_000_000, Int64.max]
        // Dimensions that would sort the other way round, to prove the minute dominates.
        let encoded = minutes.enumerated().map { index, minute in
            CellKeyCodec.encode(CellKey(minute: minute, dimensions: Self.dimensions(key: String(repeating: "z", count: 8 - index))))
        }
        for (earlier, later) in zip(encoded, encoded.dropFirst()) {
            #expect(earlier.lexicographicallyPrecedes(later))
        }
    }

    @Test func minutePrefixBoundsEveryCellOfThatMinute() {
        let key = CellKeyCodec.encode(CellKey(minute: 7, dimensions: Self.dimensions()))
        #expect(CellKeyCodec.minutePrefix(7).lexicographicallyPrecedes(key))
        #expect(key.lexicographicallyPrecedes(CellKeyCodec.minutePrefix(8)))
    }

    @Test func truncatedOrGarbledKeysAreRejected() {
        let good = CellKeyCodec.encode(CellKey(minute: 3, dimensions: Self.dimensions()))
        var wrongPrefix = good
        wrongPrefix[0] = UInt8(ascii: "a")
        var badUTF8 = CellKeyCodec.encode(CellKey(minute: 3, dimensions: Dimensions()))
        badUTF8[10] = 1 // keyID length 1 …
        badUTF8.insert(0xFF, at: 11) // … whose one byte is not UTF-8
        let cases: [[UInt8]] = [[], Array(good.prefix(5)), Array(good.dropLast()), good + [0], wrongPrefix, badUTF8]
        for bytes in cases {
            #expect(throws: StoreError.self) { try CellKeyCodec.decode(bytes) }
        }
    }

    @Test func oversizedValueIsCutAtACharacterBoundary() throws {
        var dimensions = Dimensions()
        dimensions.model = "a" + String(repeating: "é", count: 40_000) // 80,001 UTF-8 bytes
        let decoded = try CellKeyCodec.decode(CellKeyCodec.encode(CellKey(minute: 0, dimensions: dimensions)))
        #expect(decoded.dimensions.model.utf8.count == 65_535)
        #expect(dimensions.model.hasPrefix(decoded.dimensions.model))
    }

    @Test func countersRoundTrip() throws {
        var counters = UsageCounters()
        counters.requests = 1
        counters.tokens = TokenUsage(input: 2, cachedInput: 3, cacheWrite: 4, cacheWrite1h: 11, output: 5, reasoning: 6)
        counters.cost = Nanodollars(-7_000_000_000_000)
        counters.errors = 8
        counters.blocked = 9
        counters.estimated = 10
        counters.unpriced = Int64.max
        counters.routed = 12
        counters.routingSavings = Nanodollars(-13)
        let bytes = CountersCodec.encode(counters)
        #expect(bytes.count == 112)
        #expect(Array(bytes.prefix(8)) == [1, 0, 0, 0, 0, 0, 0, 0]) // requests first, little-endian
        #expect(Array(bytes[88..<96]) == [11, 0, 0, 0, 0, 0, 0, 0]) // 1-hour writes appended in version 2
        #expect(Array(bytes[96..<104]) == [12, 0, 0, 0, 0, 0, 0, 0]) // routed, then savings (signed), in version 3
        #expect(Array(bytes.suffix(8)) == [243, 255, 255, 255, 255, 255, 255, 255])
        #expect(try CountersCodec.decode(bytes) == counters)
    }

    /// Values written before routing (version 2, 12 fields) read as having routed nothing.
    @Test func version2CountersStillDecode() throws {
        var counters = UsageCounters()
        counters.requests = 3
        counters.tokens = TokenUsage(input: 2, cachedInput: 3, cacheWrite: 4, cacheWrite1h: 1, output: 5, reasoning: 6)
        counters.cost = Nanodollars(77)
        var routed = counters
        routed.routed = 2
        routed.routingSavings = Nanodollars(40)
        let version2 = Array(CountersCodec.encode(routed).prefix(CountersCodec.version2ByteCount))
        #expect(version2.count == 96)
        #expect(try CountersCodec.decode(version2) == counters)
    }

    /// Values written before 1-hour cache writes (version 1, 11 fields) read as having none.
    @Test func version1CountersStillDecode() throws {
        var counters = UsageCounters()
        counters.requests = 3
        counters.tokens = TokenUsage(input: 2, cachedInput: 3, cacheWrite: 4, output: 5, reasoning: 6)
        counters.unpriced = 9
        let version1 = Array(CountersCodec.encode(counters).prefix(88))
        #expect(try CountersCodec.decode(version1) == counters)
    }

    @Test(arguments: [0, 87, 89, 95, 97, 104, 111, 113, 176])
    func countersOfWrongLengthAreRejected(length: Int) {
        #expect(throws: StoreError.self) { try CountersCodec.decode([UInt8](repeating: 0, count: length)) }
    }
}
