import Foundation
import TollgateCore
import TollgateWire

/// One usage record in an event log: `magic, length, CRC-32C, body` where the body is the
/// epoch (the seq of the batch it will join) and a one-event `Cell` in protobuf.
///
/// The magic lets recovery resynchronise after a torn record *inside* a file: many event
/// loops append to one log, so a write cut short by a full disk can be followed by whole
/// records from other writers. A record with an empty body is a probe the meter writes to
/// learn whether the disk takes writes again; recovery skips it.
enum EventRecord {
    static let magic: UInt32 = 0x5645_4754  // "TGEV"
    static let headerBytes = 12

    static func encode(_ cell: Cell, epoch: UInt64) -> [UInt8] {
        var body = ByteWriter()
        body.append(epoch)
        body.append((try? Tollgate_V1_Cell(cell).serializedData()) ?? Data())
        return frame(body.data)
    }

    static func encode(_ event: UsageEvent, epoch: UInt64) -> [UInt8] {
        encode(Cell(key: CellKey(minute: event.minute, dimensions: event.dimensions), counters: UsageCounters(event)), epoch: epoch)
    }

    static let probe: [UInt8] = frame(Data())

    private static func frame(_ body: Data) -> [UInt8] {
        var record = ByteWriter()
        record.append(magic)
        record.append(UInt32(body.count))
        record.append(CRC32C.checksum(body))
        record.append(body)
        return Array(record.data)
    }

    struct Scan {
        var records: [(epoch: UInt64, cell: Cell)] = []
        /// Stretches of bytes that were not whole records (each counted once).
        var torn = 0
    }

    static func scan(_ data: Data) -> Scan {
        var scan = Scan()
        var offset = data.startIndex
        var inTornStretch = false
        while offset < data.endIndex {
            if let (epoch, cell, next) = record(in: data, at: offset) {
                if let cell { scan.records.append((epoch, cell)) }
                offset = next
                inTornStretch = false
            } else {
                if !inTornStretch { scan.torn += 1 }
                inTornStretch = true
                offset += 1
            }
        }
        return scan
    }

    /// A whole record at `offset`: its epoch, its cell (nil for a probe) and where the next begins.
    private static func record(in data: Data, at offset: Int) -> (UInt64, Cell?, Int)? {
        var reader = ByteReader(data.suffix(from: offset))
        guard reader.read(UInt32.self) == magic, let length = reader.read(UInt32.self),
              let checksum = reader.read(UInt32.self), let body = reader.read(count: Int(length)),
              CRC32C.checksum(body) == checksum else { return nil }
        let next = offset + headerBytes + Int(length)
        if body.isEmpty { return (0, nil, next) }
        var bodyReader = ByteReader(body)
        guard let epoch = bodyReader.read(UInt64.self), let bytes = bodyReader.read(count: bodyReader.remaining),
              let cell = try? Tollgate_V1_Cell(serializedBytes: bytes) else { return nil }
        return (epoch, cell.domainCell, next)
    }

    /// `events.log` as versions before epoch files wrote it (no magic, one writer): read up
    /// to the first torn record, since nothing after it can be trusted to be aligned.
    static func scanLegacy(_ data: Data) -> Scan {
        var scan = Scan()
        var reader = ByteReader(data)
        while reader.remaining > 0 {
            guard let length = reader.read(UInt32.self), let checksum = reader.read(UInt32.self),
                  let body = reader.read(count: Int(length)), CRC32C.checksum(body) == checksum else {
                scan.torn += 1
                return scan
            }
            var bodyReader = ByteReader(body)
            guard let generation = bodyReader.read(UInt64.self), let bytes = bodyReader.read(count: bodyReader.remaining),
                  let cell = try? Tollgate_V1_Cell(serializedBytes: bytes) else {
                scan.torn += 1
                return scan
            }
            scan.records.append((generation, cell.domainCell))
        }
        return scan
    }
}
