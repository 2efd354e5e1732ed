import Foundation
import SwiftProtobuf
import Testing
import TollgateCore
@testable import TollgateWire
import TestSupport

/// `UsageBatchReader` must read exactly what swift-protobuf reads, and refuse exactly what
/// it refuses: on encoded batches, on hand-made wire-format oddities, and on corrupted copies.
@Suite struct UsageBatchReaderTests {
    /// swift-protobuf's answer: the cells, or nil for an error.
    static func reference(_ bytes: [UInt8]) -> [Cell]? {
        try? Tollgate_V1_UsageBatch(serializedBytes: bytes).cells.map(\.domainCell)
    }

    static func reader(_ bytes: [UInt8]) -> [Cell]? {
        try? bytes.withUnsafeBytes { try UsageBatchReader.cells($0) }
    }

    static func expectSameAsReference(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = reference(bytes)
        let actual = reader(bytes)
        #expect(actual == expected, "bytes \(bytes.prefix(48).map { String($0, radix: 16) })", sourceLocation: sourceLocation)
    }

    static func encoded(_ cells: [Cell]) throws -> [UInt8] {
        var batch = Tollgate_V1_UsageBatch()
        batch.cells = cells.map(Tollgate_V1_Cell.init)
        batch.createdUnixMs = 1_764_000_000_000
        return try batch.serializedBytes()
    }

    static func cells(_ count: Int) -> [Cell] {
        (0..<count).map { index in
            var dimensions = Dimensions()
            dimensions.keyID = "k_\(String(index * 7919, radix: 16))"
            dimensions.keyHint = "sk-…\(1000 + index)"
            dimensions.provider = ["openai", "anthropic", "gemini"][index % 3]
            dimensions.model = ["gpt-4o", "claude-sonnet-4-5-20250929", "gemini-2.5-flash"][index % 3]
            dimensions.endpoint = index % 2 == 0 ? "chat.completions" : ""
            dimensions.team = "täm-\(index % 4)"
            dimensions.project = index % 5 == 0 ? "プロジェクト" : "p\(index)"
            dimensions.user = index % 3 == 0 ? "" : "user-\(index)@example.com"
            dimensions.useCase = "😀 case"
            dimensions.environment = "ci"
            dimensions.host = "runner-\(index % 9)"
            dimensions.servedModel = index % 4 == 0 ? "" : "served-\(index % 3)"
            dimensions.requestedModel = index % 7 == 0 ? "" : "models/requested-\(index % 2)"
            var counters = UsageCounters()
            counters.requests = Int64(index + 1)
            counters.tokens = TokenUsage(input: Int64(index) * 1_000, cachedInput: Int64(index), cacheWrite: Int64(index % 3), cacheWrite1h: Int64(index % 2),
                                         output: Int64(index) * 77, reasoning: Int64(index % 11))
            counters.cost = Nanodollars(index % 4 == 0 ? -Int64(index) : Int64(index) * 1_234_567_891)
            counters.errors = Int64(index % 2)
            counters.blocked = Int64(index % 3)
            counters.estimated = 1
            counters.unpriced = Int64(index % 5)
            counters.routed = Int64(index % 4)
            counters.routingSavings = Nanodollars(index % 3 == 0 ? -Int64(index) * 1_000 : Int64(index) * 999)
            let minute: Int64 = index % 6 == 0 ? -Int64(index) : 29_400_000 + Int64(index)
            return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
        }
    }

    // MARK: - Wire-format building blocks for hand-made input

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    static func tag(_ field: UInt64, _ wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }
    static func delimited(_ field: UInt64, _ body: [UInt8]) -> [UInt8] { tag(field, 2) + varint(UInt64(body.count)) + body }
    static func string(_ field: UInt64, _ text: String) -> [UInt8] { delimited(field, Array(text.utf8)) }

    @Test func readsEncodedBatchesExactlyAsSwiftProtobufDoes() throws {
        for count in [0, 1, 7, 250] {
            let bytes = try Self.encoded(Self.cells(count))
            #expect(Self.reader(bytes) == Self.cells(count))
            Self.expectSameAsReference(bytes)
        }
    }

    @Test func treatsUnknownFieldsWrongWireTypesAndRepeatsAsProtobufDoes() {
        let dimensions = Self.string(4, "gpt-4o") + Self.string(6, "ml")
        let counters = Self.tag(1, 0) + Self.varint(3) + Self.tag(7, 0) + Self.varint(UInt64(bitPattern: -5))
        let cases: [[UInt8]] = [
            // Unknown fields of every wire type, at every level, groups included.
            Self.delimited(1, Self.tag(99, 0) + Self.varint(1) + Self.tag(1, 0) + Self.varint(42) + Self.delimited(2, dimensions)
                + Self.tag(98, 1) + [UInt8](repeating: 7, count: 8) + Self.tag(97, 5) + [1, 2, 3, 4]
                + Self.tag(96, 3) + Self.tag(1, 0) + Self.varint(5) + Self.tag(96, 4) + Self.delimited(3, counters)),
            Self.tag(15, 0) + Self.varint(1) + Self.delimited(1, Self.delimited(2, Self.tag(12, 2) + Self.varint(0) + dimensions)),
            // A known field with another wire type is skipped, not an error.
            Self.delimited(1, Self.tag(1, 2) + Self.varint(2) + [0xAA, 0xBB] + Self.delimited(2, Self.tag(4, 0) + Self.varint(9))),
            Self.delimited(1, Self.delimited(3, Self.tag(1, 2) + Self.varint(1) + [5] + Self.tag(2, 5) + [1, 0, 0, 0])),
            // Last scalar wins; an embedded message that appears twice is merged.
            Self.delimited(1, Self.tag(1, 0) + Self.varint(1) + Self.tag(1, 0) + Self.varint(2)
                + Self.delimited(2, Self.string(4, "a")) + Self.delimited(2, Self.string(6, "b"))
                + Self.delimited(3, Self.tag(1, 0) + Self.varint(1)) + Self.delimited(3, Self.tag(2, 0) + Self.varint(8))),
            // Counters beyond Int64 are clamped; a ten-byte varint; a varint with bits past 64.
            Self.delimited(1, Self.delimited(3, Self.tag(1, 0) + Self.varint(UInt64.max) + Self.tag(2, 0) + Self.varint(1 << 63))),
            Self.delimited(1, Self.tag(1, 0) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            // Errors: truncation, an over-long varint, field 0, a stray end-group, an unclosed
            // group, wire types 6 and 7, and strings that are not UTF-8.
            Array(Self.delimited(1, dimensions).dropLast()),
            Self.delimited(1, Self.tag(1, 0) + [UInt8](repeating: 0xFF, count: 10) + [0x01]),
            Self.tag(0, 0) + Self.varint(1),
            Self.tag(5, 4),
            Self.tag(5, 3) + Self.tag(1, 0) + Self.varint(1),
            Self.tag(5, 6) + [0],
            Self.tag(5, 7) + [0],
            Self.delimited(1, Self.delimited(2, Self.delimited(4, [0xC0, 0x80]))),
            Self.delimited(1, Self.delimited(2, Self.delimited(4, [0xED, 0xA0, 0x80]))),
            Self.delimited(1, Self.delimited(2, Self.delimited(4, [0xF4, 0x90, 0x80, 0x80]))),
            Self.delimited(1, Self.delimited(2, Self.delimited(4, Array("abcdefgh".utf8) + [0xE2, 0x82]))),
            // Valid multi-byte UTF-8 at the edges of what is allowed.
            Self.delimited(1, Self.delimited(2, Self.delimited(4, [0xF4, 0x8F, 0xBF, 0xBF, 0xEF, 0xBF, 0xBF, 0xC2, 0x80]))),
        ]
        for bytes in cases { Self.expectSameAsReference(bytes) }
    }

    @Test func agreesWithSwiftProtobufOnThousandsOfCorruptedBatches() throws {
        let original = try Self.encoded(Self.cells(12))
        var generator = SplitMix64(seed: 0x7011_6A7E)
        var rejected = 0
        for round in 0..<4_000 {
            var bytes = original
            switch round % 4 {
            case 0: bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            case 1: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 2: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: Int(generator.next() % UInt64(bytes.count)))
            default:
                for _ in 0..<3 { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            }
            if Self.reference(bytes) == nil { rejected += 1 }
            Self.expectSameAsReference(bytes)
        }
        // The corruption must exercise both outcomes, or the comparison proves little.
        #expect(rejected > 400 && rejected < 3_600)
    }

    @Test func utf8ValidationMatchesTheStandardLibrary() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 12)
            let bytes = (0..<length).map { _ -> UInt8 in
                let raw = UInt8(truncatingIfNeeded: generator.next())
                return generator.next() % 3 == 0 ? raw & 0x7F : raw
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBufferPointer(ProtobufReader.isValidUTF8) == expected, "\(bytes)")
        }
    }
}

