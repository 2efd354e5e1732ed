import Foundation
import Testing
import TollgateCore
@testable import TollgateWire

@Suite struct UsageBatchCodecTests {
    func sampleCells(_ count: Int) -> [Cell] {
        (0..<count).map { index in
            var dimensions = Dimensions()
            dimensions.keyID = "key\(index % 5)"
            dimensions.keyHint = "sk-…\(1000 + index % 5)"
            dimensions.model = ["gpt-4o", "gpt-4o-mini", "o4-mini"][index % 3]
            dimensions.team = "täm-\(index % 2)"
            var counters = UsageCounters()
            counters.requests = Int64(index + 1)
            counters.tokens = TokenUsage(input: Int64(index * 100), cachedInput: Int64(index), cacheWrite: 3, cacheWrite1h: 2, output: Int64(index * 7), reasoning: 2)
            counters.cost = Nanodollars(Int64(index) * 1_234_567)
            counters.errors = Int64(index % 2)
            return Cell(key: CellKey(minute: 29_000_000 + Int64(index / 10), dimensions: dimensions), counters: counters)
        }
    }

    @Test func roundTripsABatch() throws {
        let message = UsageBatchMessage(agentID: "agent-1", seq: 42, floorSeq: 40, cells: sampleCells(250))
        let frames = try UsageBatchCodec.encode(message)
        #expect(frames.count == 2)
        #expect(try UsageBatchCodec.decode(frames) == message)
    }

    @Test func compressesRepetitiveBatches() throws {
        let frames = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a", seq: 1, floorSeq: 1, cells: sampleCells(1000)))
        let header = try UsageBatchCodec.decodeHeader(frames)
        #expect(frames[1].count * 3 < Int(header.uncompressedLength) * 2)  // ≥ 1.5× on realistic cells
    }

    @Test func rejectsEveryCorruptedPayloadByte() throws {
        let frames = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a", seq: 1, floorSeq: 1, cells: sampleCells(20)))
        for index in 0..<frames[1].count {
            var payload = frames[1]
            payload[index] ^= 0x5A
            #expect(throws: WireError.self) { try UsageBatchCodec.decode([frames[0], payload]) }
        }
    }

    @Test func rejectsMalformedFrames() throws {
        let frames = try UsageBatchCodec.encode(UsageBatchMessage(agentID: "a", seq: 1, floorSeq: 1, cells: sampleCells(3)))
        #expect(throws: WireError.wrongFrameCount(1)) { try UsageBatchCodec.decode([frames[0]]) }
        #expect(throws: WireError.self) { try UsageBatchCodec.decode([Data([0xFF, 0xFF, 0xFF]), frames[1]]) }
        #expect(throws: WireError.self) { try UsageBatchCodec.decode([Data(), frames[1]]) }  // no agent or seq
        #expect(throws: WireError.self) { try UsageBatchCodec.decode([frames[0], frames[1].prefix(frames[1].count / 2)]) }
    }

    @Test func refusesAbsurdLengthClaimsBeforeAllocating() throws {
        var header = Tollgate_V1_BatchHeader()
        header.agentID = "a"
        header.seq = 1
        header.codec = .lz4
        header.uncompressedLength = UInt32.max
        let payload = Data([1, 2, 3])
        header.checksum = CRC32C.checksum(payload)
        #expect(throws: WireError.oversized(Int(UInt32.max))) { try UsageBatchCodec.decode([try header.serializedData(), payload]) }
    }

    @Test func repliesRoundTrip() throws {
        for reply in [UsageReply.ack(seq: 7), .nack(seq: 9, expected: 8, reason: "gap"), .nack(seq: 3, expected: nil, reason: "x")] {
            #expect(try UsageReply(decoding: reply.encoded()) == reply)
        }
        #expect(throws: WireError.self) { try UsageReply(decoding: Data([0x0A, 0xFF])) }
    }
}

@Suite struct ZeroMQTests {
    @Test func dealerAndRouterExchangeMultipartMessages() throws {
        let context = ZMQContext()
        let router = try ZMQSocket(context, .router)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context, .dealer)
        try dealer.connect(router.lastEndpoint)
        #expect(try dealer.send([Data("header".utf8), Data([0, 1, 2])], dontWait: false))
        #expect(try router.waitForInput(milliseconds: 5_000))
        let frames = try #require(try router.receive())
        #expect(frames.count == 3)
        #expect(frames[1] == Data("header".utf8) && frames[2] == Data([0, 1, 2]))
        try router.send([frames[0], Data("ack".utf8)], dontWait: false)
        #expect(try dealer.waitForInput(milliseconds: 5_000))
        #expect(try dealer.receive() == [Data("ack".utf8)])
        #expect(try dealer.receive() == nil)
    }
}

@Suite struct WireErrorTests {
    /// Metrics export each reason at zero from start, from this list; a new case must join it.
    @Test func everyReasonIsListed() {
        let errors: [WireError] = [.wrongFrameCount(1), .badHeader(""), .oversized(0), .checksumMismatch(expected: 0, actual: 1),
                                   .unsupportedCodec(9), .corruptPayload("")]
        #expect(errors.map(\.reason) == WireError.reasons)
    }
}
