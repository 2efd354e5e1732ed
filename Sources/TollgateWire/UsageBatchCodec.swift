import Foundation
import SwiftProtobuf
import TollgateCore

/// A usage batch as it travels: frame 1 is a `BatchHeader`, frame 2 the LZ4-compressed
/// `UsageBatch`. The header is small and uncompressed so the aggregator can dedupe by
/// (agent_id, seq) and check size and checksum before decompressing anything.
public struct UsageBatchMessage: Equatable, Sendable {
    public var agentID: String
    public var seq: UInt64
    public var floorSeq: UInt64
    public var cells: [Cell]
    /// See `RawUsageBatch.highSeq`.
    public var highSeq: UInt64

    public init(agentID: String, seq: UInt64, floorSeq: UInt64, cells: [Cell], highSeq: UInt64 = 0) {
        self.agentID = agentID
        self.seq = seq
        self.floorSeq = floorSeq
        self.cells = cells
        self.highSeq = highSeq
    }
}

/// A usage batch as the aggregator takes it: the header's fields and the encoded
/// `UsageBatch`, checksummed and decompressed but not yet read (`UsageBatchReader` reads
/// its cells in place).
public struct RawUsageBatch: Sendable {
    public var agentID: String
    public var seq: UInt64
    public var floorSeq: UInt64
    /// The highest seq the agent has ever numbered (`BatchHeader.high_seq`); 0 when the
    /// agent did not say. Lets the aggregator tell an agent whose state went back in time.
    public var highSeq: UInt64
    public var encoded: Data
    /// The allowlist name of the CurveZMQ key that sent the batch (the ZAP User-Id), set by
    /// the aggregator; nil on a plaintext channel, where identity cannot be checked.
    public var sender: String?

    public init(agentID: String, seq: UInt64, floorSeq: UInt64, highSeq: UInt64 = 0, encoded: Data, sender: String? = nil) {
        self.agentID = agentID
        self.seq = seq
        self.floorSeq = floorSeq
        self.highSeq = highSeq
        self.encoded = encoded
        self.sender = sender
    }

    /// `message` encoded as an agent would send it (for tests and tools that start from cells).
    public init(_ message: UsageBatchMessage) throws {
        var batch = Tollgate_V1_UsageBatch()
        batch.cells = message.cells.map(Tollgate_V1_Cell.init)
        self.init(agentID: message.agentID, seq: message.seq, floorSeq: message.floorSeq, highSeq: message.highSeq,
                  encoded: try batch.serializedData())
    }
}

/// An LZ4-compressed, encoded `UsageBatch` and the length it decompresses to.
public struct CompressedPayload: Equatable, Sendable {
    public var bytes: Data
    public var uncompressedLength: UInt32

    public init(bytes: Data, uncompressedLength: UInt32) {
        self.bytes = bytes
        self.uncompressedLength = uncompressedLength
    }
}

public enum UsageBatchCodec {
    /// Larger claims are rejected before any allocation: a batch of cells is kilobytes.
    public static let maxUncompressedBytes = 64 << 20
    static let maxHeaderBytes = 4096

    public static func encode(_ message: UsageBatchMessage, createdUnixMs: Int64 = 0) throws -> [Data] {
        let payload = try encodePayload(message.cells, createdUnixMs: createdUnixMs)
        return try frames(agentID: message.agentID, seq: message.seq, floorSeq: message.floorSeq, highSeq: message.highSeq, payload: payload)
    }

    /// A batch's cells, encoded and compressed: what the agent spools. The header is made
    /// at send time, because `floor_seq` depends on what is still unacknowledged then.
    public static func encodePayload(_ cells: [Cell], createdUnixMs: Int64 = 0) throws -> CompressedPayload {
        var batch = Tollgate_V1_UsageBatch()
        batch.cells = cells.map(Tollgate_V1_Cell.init)
        batch.createdUnixMs = createdUnixMs
        let encoded = try batch.serializedData()
        return CompressedPayload(bytes: LZ4Block.compress(encoded), uncompressedLength: UInt32(encoded.count))
    }

    public static func decodePayload(_ payload: CompressedPayload) throws -> [Cell] {
        try cells(of: try decompress(payload))
    }

    /// The cells of an encoded (decompressed) `UsageBatch`.
    private static func cells(of encoded: Data) throws -> [Cell] {
        do {
            return try encoded.withUnsafeBytes { bytes throws(ProtobufError) in try UsageBatchReader.cells(bytes) }
        } catch {
            throw WireError.corruptPayload("\(error)")
        }
    }

    private static func decompress(_ payload: CompressedPayload) throws -> Data {
        guard Int(payload.uncompressedLength) <= maxUncompressedBytes else { throw WireError.oversized(Int(payload.uncompressedLength)) }
        return try LZ4Block.decompress(payload.bytes, uncompressedLength: Int(payload.uncompressedLength))
    }

    public static func frames(agentID: String, seq: UInt64, floorSeq: UInt64, highSeq: UInt64 = 0, payload: CompressedPayload) throws -> [Data] {
        var header = Tollgate_V1_BatchHeader()
        header.agentID = agentID
        header.seq = seq
        header.floorSeq = floorSeq
        header.highSeq = highSeq
        header.codec = .lz4
        header.uncompressedLength = payload.uncompressedLength
        header.checksum = CRC32C.checksum(payload.bytes)
        return [try header.serializedData(), payload.bytes]
    }

    /// Reads only the header; cheap, for deduplication before the payload is touched.
    public static func decodeHeader(_ frames: [Data]) throws -> Tollgate_V1_BatchHeader {
        guard frames.count == 2 else { throw WireError.wrongFrameCount(frames.count) }
        guard frames[0].count <= maxHeaderBytes else { throw WireError.badHeader("header of \(frames[0].count) bytes") }
        let header: Tollgate_V1_BatchHeader
        do {
            header = try Tollgate_V1_BatchHeader(serializedBytes: frames[0])
        } catch {
            throw WireError.badHeader("\(error)")
        }
        guard !header.agentID.isEmpty, header.seq > 0 else { throw WireError.badHeader("missing agent_id or seq") }
        return header
    }

    public static func decode(_ frames: [Data]) throws -> UsageBatchMessage {
        let raw = try decodeRaw(frames)
        return UsageBatchMessage(agentID: raw.agentID, seq: raw.seq, floorSeq: raw.floorSeq, cells: try cells(of: raw.encoded), highSeq: raw.highSeq)
    }

    /// Checks the header, size and checksum and decompresses; the cells are left to the
    /// caller (`UsageBatchReader`), which reports a malformed `UsageBatch`.
    public static func decodeRaw(_ frames: [Data]) throws -> RawUsageBatch {
        let header = try decodeHeader(frames)
        let payload = frames[1]
        guard header.codec == .lz4 else { throw WireError.unsupportedCodec(header.codec.rawValue) }
        guard Int(header.uncompressedLength) <= maxUncompressedBytes else { throw WireError.oversized(Int(header.uncompressedLength)) }
        let actual = CRC32C.checksum(payload)
        guard actual == header.checksum else { throw WireError.checksumMismatch(expected: header.checksum, actual: actual) }
        let encoded = try decompress(CompressedPayload(bytes: payload, uncompressedLength: header.uncompressedLength))
        return RawUsageBatch(agentID: header.agentID, seq: header.seq, floorSeq: header.floorSeq, highSeq: header.highSeq, encoded: encoded)
    }
}

/// Replies on the usage channel.
public enum UsageReply: Equatable, Sendable {
    /// Every batch up to and including `seq` is committed.
    case ack(seq: UInt64)
    /// `seq` was not applied; if `expected` is set, resend from there.
    case nack(seq: UInt64, expected: UInt64?, reason: String)
    /// `seq` was not applied and resending it will not help: see `BatchRefusal`.
    /// `lastApplied` is the aggregator's last applied seq for the agent.
    case refused(seq: UInt64, code: BatchRefusal, lastApplied: UInt64, reason: String)

    public func encoded() throws -> Data {
        var reply = Tollgate_V1_Reply()
        switch self {
        case .ack(let seq):
            var ack = Tollgate_V1_Ack()
            ack.seq = seq
            reply.kind = .ack(ack)
        case .nack(let seq, let expected, let reason):
            var nack = Tollgate_V1_Nack()
            nack.seq = seq
            nack.expectedSeq = expected ?? 0
            nack.reason = reason
            reply.kind = .nack(nack)
        case .refused(let seq, let code, let lastApplied, let reason):
            var nack = Tollgate_V1_Nack()
            nack.seq = seq
            nack.code = code.rawValue
            nack.lastAppliedSeq = lastApplied
            nack.reason = reason
            reply.kind = .nack(nack)
        }
        return try reply.serializedData()
    }

    public init(decoding data: Data) throws {
        let reply: Tollgate_V1_Reply
        do {
            reply = try Tollgate_V1_Reply(serializedBytes: data)
        } catch {
            throw WireError.badHeader("unreadable reply: \(error)")
        }
        switch reply.kind {
        case .ack(let ack): self = .ack(seq: ack.seq)
        case .nack(let nack):
            if let code = BatchRefusal(rawValue: nack.code) {
                self = .refused(seq: nack.seq, code: code, lastApplied: nack.lastAppliedSeq, reason: nack.reason)
            } else {
                self = .nack(seq: nack.seq, expected: nack.expectedSeq == 0 ? nil : nack.expectedSeq, reason: nack.reason)
            }
        case nil: throw WireError.badHeader("reply with neither ack nor nack")
        }
    }
}
