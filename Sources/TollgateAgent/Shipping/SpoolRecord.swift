import Foundation
import TollgateCore
import TollgateWire

/// A spooled batch on disk: in a segment as `magic, length, CRC-32C, body`; in a file of
/// the one-file-per-batch layout (before segments) as `magic, CRC-32C, body`. The body is
/// the same in both: seq, the superseded range (0…0 for none), the uncompressed length and
/// the LZ4 payload.
enum SpoolRecord {
    static let magic: UInt32 = 0x4253_4754  // "TGSB"
    /// An acknowledgement: every batch up to the seq in its body is committed. Appended
    /// without fsync (losing one only means resending what the aggregator acknowledges
    /// without applying), so a restart does not resend batches that share a segment with
    /// unacknowledged ones.
    static let ackMagic: UInt32 = 0x4B53_4754  // "TGSK"
    static let headerBytes = 12

    static func body(_ batch: SpooledBatch) -> Data {
        var body = ByteWriter()
        body.append(batch.seq)
        body.append(batch.supersedes?.lowerBound ?? 0)
        body.append(batch.supersedes?.upperBound ?? 0)
        body.append(batch.payload.uncompressedLength)
        body.append(batch.payload.bytes)
        return body.data
    }

    static func decodeBody(_ body: Data) -> SpooledBatch? {
        var reader = ByteReader(body)
        guard let seq = reader.read(UInt64.self), let low = reader.read(UInt64.self), let high = reader.read(UInt64.self),
              let length = reader.read(UInt32.self), let bytes = reader.read(count: reader.remaining), low <= high else { return nil }
        return SpooledBatch(seq: seq, payload: CompressedPayload(bytes: bytes, uncompressedLength: length),
                            supersedes: high == 0 ? nil : low...high)
    }

    /// A segment record.
    static func encode(_ batch: SpooledBatch) -> Data {
        let body = body(batch)
        var record = ByteWriter()
        record.append(magic)
        record.append(UInt32(body.count))
        record.append(CRC32C.checksum(body))
        record.append(body)
        return record.data
    }

    static func encodeAck(through seq: UInt64) -> Data {
        var body = ByteWriter()
        body.append(seq)
        var record = ByteWriter()
        record.append(ackMagic)
        record.append(UInt32(body.data.count))
        record.append(CRC32C.checksum(body.data))
        record.append(body.data)
        return record.data
    }

    /// A legacy `batch-<seq>.tgb` file.
    static func encodeLegacyFile(_ batch: SpooledBatch) -> Data {
        let body = body(batch)
        var file = ByteWriter()
        file.append(magic)
        file.append(CRC32C.checksum(body))
        file.append(body)
        return file.data
    }

    static func decodeLegacyFile(_ data: Data) -> SpooledBatch? {
        var reader = ByteReader(data)
        guard reader.read(UInt32.self) == magic, let checksum = reader.read(UInt32.self),
              let body = reader.read(count: reader.remaining), CRC32C.checksum(body) == checksum else { return nil }
        return decodeBody(body)
    }

    /// What one segment holds.
    struct Scan {
        var batches: [SpooledBatch] = []
        var ackedThrough: UInt64 = 0
        /// Where the last whole record ends: a crash mid-append leaves bytes after it.
        var validEnd = 0
        /// Bad bytes after the last whole record (a torn append): harmless, truncated away.
        var tornTail = false
        /// Bad bytes *before* a whole record: the disk damaged a batch, which is lost.
        var corruptStretches = 0
    }

    static func scan(_ data: Data) -> Scan {
        var scan = Scan()
        var offset = data.startIndex
        var badSince: Int?
        while offset < data.endIndex {
            if let (found, next) = record(in: data, at: offset) {
                if badSince != nil { scan.corruptStretches += 1 }
                badSince = nil
                switch found {
                case .batch(let batch): scan.batches.append(batch)
                case .ack(let seq): scan.ackedThrough = max(scan.ackedThrough, seq)
                }
                offset = next
                scan.validEnd = next - data.startIndex
            } else {
                if badSince == nil { badSince = offset }
                offset += 1
            }
        }
        scan.tornTail = badSince != nil
        return scan
    }

    private enum Found {
        case batch(SpooledBatch)
        case ack(UInt64)
    }

    private static func record(in data: Data, at offset: Int) -> (Found, Int)? {
        var reader = ByteReader(data.suffix(from: offset))
        guard let kind = reader.read(UInt32.self), kind == magic || kind == ackMagic, let length = reader.read(UInt32.self),
              let checksum = reader.read(UInt32.self), let body = reader.read(count: Int(length)),
              CRC32C.checksum(body) == checksum else { return nil }
        let next = offset + headerBytes + Int(length)
        if kind == ackMagic {
            var bodyReader = ByteReader(body)
            return bodyReader.read(UInt64.self).map { (.ack($0), next) }
        }
        return decodeBody(body).map { (.batch($0), next) }
    }
}
