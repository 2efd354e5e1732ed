import Foundation
import TollgateCore
import TollgateWire

/// One batch as kept on disk until the aggregator acknowledges it.
struct SpooledBatch: Equatable {
    var seq: UInt64
    var payload: CompressedPayload
    /// Never-sent batches this one replaced when they were merged. Recovery deletes any of
    /// them still on disk, since a crash can land between writing this and removing them.
    var supersedes: ClosedRange<UInt64>?
}

/// The agent's crash-safe store of usage not yet acknowledged by the aggregator.
///
/// Two kinds of files live in `state_dir/spool/`:
/// - `batch-<seq>.tgb`: one cut batch each, written atomically (temp file, fsync, rename,
///   directory fsync) *before* it is first sent, deleted once acknowledged. A checksum
///   guards against disk corruption; a corrupt file is set aside and counted.
/// - `events.log`: usage recorded since the last cut, appended with plain `write(2)` as the
///   meter receives it. That survives the agent being killed (the data is in the kernel)
///   without an fsync per request; a machine crash can lose its unsynced tail, which is the
///   documented cost of not fsyncing on the request path. Each record carries the seq of
///   the batch it will be cut into, so recovery skips records already in a batch.
final class Spool {
    struct Recovery {
        var batches: [SpooledBatch] = []
        /// Usage from `events.log` that no batch holds yet.
        var pendingCells: [Cell] = []
        var corruptBatches = 0
        var tornEventRecords = 0
    }

    let directory: String
    private let eventLogPath: String
    private var eventLog: Int32 = -1
    private(set) var batchSizes: [UInt64: Int] = [:]

    static let batchMagic: UInt32 = 0x4253_4754  // "TGSB"

    init(stateDirectory: String) throws {
        directory = (stateDirectory as NSString).appendingPathComponent("spool")
        eventLogPath = (directory as NSString).appendingPathComponent("events.log")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SpoolError.io(path: directory, operation: "create directory", code: EACCES)
        }
    }

    deinit {
        if eventLog >= 0 { close(eventLog) }
    }

    var batchCount: Int { batchSizes.count }
    var totalBytes: Int { batchSizes.values.reduce(0, +) }

    // MARK: Recovery

    /// Reads everything left by the previous run. `nextSeq` is the first seq not yet cut:
    /// event records for lower seqs are already inside a batch.
    func recover(nextSeq: UInt64) throws -> Recovery {
        var recovery = Recovery()
        var superseded = Set<UInt64>()
        for path in try batchFiles() {
            guard let data = FileManager.default.contents(atPath: path), let batch = Self.decodeBatch(data) else {
                recovery.corruptBatches += 1
                rename(path, path + ".corrupt")  // kept for forensics, never resent
                continue
            }
            if let range = batch.supersedes { superseded.formUnion(range) }
            recovery.batches.append(batch)
            batchSizes[batch.seq] = data.count
        }
        for seq in superseded where batchSizes[seq] != nil {
            remove(seq)
        }
        recovery.batches.removeAll { superseded.contains($0.seq) }
        recovery.batches.sort { $0.seq < $1.seq }

        let firstUncut = max(nextSeq, (recovery.batches.last?.seq ?? 0) + 1)
        let (cells, validLength, torn) = readEventLog(skippingBelow: firstUncut)
        recovery.pendingCells = cells
        recovery.tornEventRecords = torn
        try openEventLog(truncatingTo: validLength)
        return recovery
    }

    private func batchFiles() throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("batch-") && $0.hasSuffix(".tgb") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    private func readEventLog(skippingBelow firstUncut: UInt64) -> (cells: [Cell], validLength: Int, torn: Int) {
        guard let data = FileManager.default.contents(atPath: eventLogPath) else { return ([], 0, 0) }
        var reader = ByteReader(data)
        var cells: [Cell] = []
        var validLength = 0
        while reader.remaining > 0 {
            guard let length = reader.read(UInt32.self), let checksum = reader.read(UInt32.self),
                  let body = reader.read(count: Int(length)), CRC32C.checksum(body) == checksum else {
                // A torn or corrupt record: nothing after it can be trusted to be aligned.
                return (cells, validLength, 1)
            }
            var bodyReader = ByteReader(body)
            guard let generation = bodyReader.read(UInt64.self), let bytes = bodyReader.read(count: bodyReader.remaining),
                  let cell = try? Tollgate_V1_Cell(serializedBytes: bytes) else {
                return (cells, validLength, 1)
            }
            if generation >= firstUncut { cells.append(cell.domainCell) }
            validLength = reader.offset
        }
        return (cells, validLength, 0)
    }

    private func openEventLog(truncatingTo length: Int) throws {
        if eventLog >= 0 { close(eventLog) }
        eventLog = open(eventLogPath, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard eventLog >= 0 else { throw SpoolError.io(path: eventLogPath, operation: "open", code: errno) }
        guard ftruncate(eventLog, off_t(length)) == 0 else { throw SpoolError.io(path: eventLogPath, operation: "truncate", code: errno) }
        guard lseek(eventLog, off_t(length), SEEK_SET) >= 0 else { throw SpoolError.io(path: eventLogPath, operation: "seek", code: errno) }
    }

    // MARK: Writing

    /// Records usage the meter just received, to be cut into batch `generation`.
    func appendEvents(_ cells: [Cell], generation: UInt64) throws {
        guard !cells.isEmpty else { return }
        var writer = ByteWriter()
        for cell in cells {
            var body = ByteWriter()
            body.append(generation)
            body.append(try Tollgate_V1_Cell(cell).serializedData())
            writer.append(UInt32(body.data.count))
            writer.append(CRC32C.checksum(body.data))
            writer.append(body.data)
        }
        try DurableFile.writeAll(eventLog, writer.data, path: eventLogPath)
    }

    /// After a cut: every event so far is inside a durable batch.
    func clearEvents() throws {
        try openEventLog(truncatingTo: 0)
    }

    func write(_ batch: SpooledBatch) throws {
        let data = Self.encodeBatch(batch)
        try DurableFile.writeAtomically(data, to: path(for: batch.seq))
        batchSizes[batch.seq] = data.count
    }

    /// Deleting needs no fsync: a deleted batch that reappears after a power loss is
    /// resent, and the aggregator acknowledges it without applying it again.
    func remove(_ seq: UInt64) {
        unlink(path(for: seq))
        batchSizes[seq] = nil
    }

    private func path(for seq: UInt64) -> String {
        let digits = String(seq)
        return (directory as NSString).appendingPathComponent("batch-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).tgb")
    }

    // MARK: Format

    static func encodeBatch(_ batch: SpooledBatch) -> Data {
        var body = ByteWriter()
        body.append(batch.seq)
        body.append(batch.supersedes?.lowerBound ?? 0)
        body.append(batch.supersedes?.upperBound ?? 0)
        body.append(batch.payload.uncompressedLength)
        body.append(batch.payload.bytes)
        var file = ByteWriter()
        file.append(batchMagic)
        file.append(CRC32C.checksum(body.data))
        file.append(body.data)
        return file.data
    }

    static func decodeBatch(_ data: Data) -> SpooledBatch? {
        var reader = ByteReader(data)
        guard reader.read(UInt32.self) == batchMagic, let checksum = reader.read(UInt32.self),
              let body = reader.read(count: reader.remaining), CRC32C.checksum(body) == checksum else { return nil }
        var bodyReader = ByteReader(body)
        guard let seq = bodyReader.read(UInt64.self), let low = bodyReader.read(UInt64.self), let high = bodyReader.read(UInt64.self),
              let length = bodyReader.read(UInt32.self), let bytes = bodyReader.read(count: bodyReader.remaining), low <= high else { return nil }
        return SpooledBatch(seq: seq, payload: CompressedPayload(bytes: bytes, uncompressedLength: length),
                            supersedes: high == 0 ? nil : low...high)
    }
}
