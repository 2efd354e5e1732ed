import Foundation
import TollgateCore
import TollgateWire

/// One batch as kept on disk until the aggregator acknowledges it.
struct SpooledBatch: Equatable {
    var seq: UInt64
    var payload: CompressedPayload
    /// Never-sent batches this one replaced when they were merged. Recovery drops any of
    /// them still on disk, since a crash can land between writing this and removing them.
    var supersedes: ClosedRange<UInt64>?
}

/// The agent's crash-safe store of usage not yet acknowledged by the aggregator, in
/// `state_dir/spool/`:
/// - `segment-<firstseq>.tgs`: cut batches appended one after another, each record
///   length-prefixed and checksummed, fsynced *before* the batch is first sent. A segment
///   rolls at `segmentBytes` (8 MiB) and is deleted once every batch in it is acknowledged
///   or superseded, so even a day-long outage (~350,000 cuts) is a handful of files and
///   start-up reads a few sequential files instead of one per batch.
/// - `events-<epoch>.log`: usage not yet cut (`EventLog`).
///
/// Spools written as one `batch-<seq>.tgb` file per batch are read at start-up and migrated
/// into a segment.
final class Spool {
    struct Recovery {
        var batches: [SpooledBatch] = []
        /// Records that failed their checksum in the middle of a segment (or whole legacy
        /// files): set aside as `*.corrupt`, never resent; their usage is lost.
        var corruptBatches = 0
        /// Segments ending in a partial record (a crash or full disk mid-append); truncated.
        var tornRecords = 0
        var migratedLegacyFiles = 0
    }

    private struct Segment {
        var path: String
        var bytes: Int
        var live: Set<UInt64> = []
    }

    let directory: String
    let eventLog: EventLog
    let segmentBytes: Int
    /// By first seq; the one with `current`'s key is the one being appended to.
    private var segments: [UInt64: Segment] = [:]
    private var current: (firstSeq: UInt64, descriptor: Int32)?
    private var segmentOf: [UInt64: UInt64] = [:]
    private(set) var batchSizes: [UInt64: Int] = [:]
    /// Bytes the unacknowledged batches themselves take (what merging can shrink): the sum
    /// of `batchSizes`, kept as they change. The shipper reads it on every pass, and summing
    /// a day's backlog (~350,000 batches) each time cost an idle agent 4 % of a core.
    private(set) var liveBytes = 0
    private var eventLogBytes = 0

    static func directory(in stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent("spool")
    }

    /// `eventLog` must be in this spool's directory; the recorder appends to it.
    init(stateDirectory: String, eventLog: EventLog? = nil, segmentBytes: Int = 8 << 20) throws {
        directory = Self.directory(in: stateDirectory)
        self.segmentBytes = segmentBytes
        self.eventLog = eventLog ?? EventLog(directory: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SpoolError.io(path: directory, operation: "create directory", code: EACCES)
        }
    }

    deinit {
        if let current { close(current.descriptor) }
    }

    var batchCount: Int { batchSizes.count }
    /// Bytes on disk: every segment (acknowledged records stay until their segment goes)
    /// plus the event logs as of the last `refreshEventLogBytes`.
    var totalBytes: Int { segments.values.reduce(0) { $0 + $1.bytes } + eventLogBytes }
    var segmentCount: Int { segments.count }

    func refreshEventLogBytes() { eventLogBytes = eventLog.bytesOnDisk }

    // MARK: Recovery

    /// Reads every batch left by the previous run, oldest first.
    func recover() throws -> Recovery {
        var recovery = Recovery()
        var found: [UInt64: SpooledBatch] = [:]
        var rewrite: [UInt64] = []
        var legacyPaths: [String] = []
        var setAside: [String] = []
        var ackedThrough: UInt64 = 0

        for path in files(prefix: "segment-", suffix: ".tgs") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SpoolError.io(path: path, operation: "read", code: errno)
            }
            let scan = SpoolRecord.scan(data)
            let firstSeq = UInt64(((path as NSString).lastPathComponent).dropFirst("segment-".count).dropLast(".tgs".count)) ?? 0
            ackedThrough = max(ackedThrough, scan.ackedThrough)
            var segment = Segment(path: path, bytes: scan.validEnd)
            for batch in scan.batches where found[batch.seq] == nil {
                found[batch.seq] = batch
                if scan.corruptStretches == 0 { segment.live.insert(batch.seq); segmentOf[batch.seq] = firstSeq }
            }
            if scan.corruptStretches > 0 {
                // Kept for forensics; the whole records it still holds move to a new segment.
                recovery.corruptBatches += scan.corruptStretches
                rewrite += scan.batches.map(\.seq)
                setAside.append(path)
                continue
            }
            if scan.tornTail {
                recovery.tornRecords += 1
                guard truncate(path, off_t(scan.validEnd)) == 0 else { throw SpoolError.io(path: path, operation: "truncate", code: errno) }
            }
            segments[firstSeq] = segment
        }
        for path in files(prefix: "batch-", suffix: ".tgb") {
            guard let data = FileManager.default.contents(atPath: path), let batch = SpoolRecord.decodeLegacyFile(data) else {
                recovery.corruptBatches += 1
                rename(path, path + ".corrupt")  // kept for forensics, never resent
                continue
            }
            legacyPaths.append(path)
            if found[batch.seq] == nil {
                found[batch.seq] = batch
                rewrite.append(batch.seq)
            }
        }

        var superseded = Set<UInt64>()
        for batch in found.values { if let range = batch.supersedes { superseded.formUnion(range) } }
        superseded.formUnion(found.keys.filter { $0 <= ackedThrough })
        var batches = found.values.filter { !superseded.contains($0.seq) }.sorted { $0.seq < $1.seq }
        for batch in batches { setSize(of: batch.seq, to: SpoolRecord.headerBytes + SpoolRecord.body(batch).count) }

        // Move what must move into a fresh segment before deleting where it came from.
        let moving = Set(rewrite)
        for batch in batches where moving.contains(batch.seq) { try write(batch) }
        for path in legacyPaths { unlink(path) }
        for path in setAside { rename(path, path + ".corrupt") }
        recovery.migratedLegacyFiles = legacyPaths.count
        for seq in superseded where segmentOf[seq] != nil { remove(seq) }
        for (firstSeq, segment) in segments where segment.live.isEmpty && current?.firstSeq != firstSeq {
            unlink(segment.path)
            segments[firstSeq] = nil
        }
        batches.removeAll { batchSizes[$0.seq] == nil }
        recovery.batches = batches
        refreshEventLogBytes()
        return recovery
    }

    private func files(prefix: String, suffix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    // MARK: Writing

    /// Appends the batch to the current segment and fsyncs it: when this returns, the batch
    /// survives a machine crash. On failure nothing of it stays (the segment is truncated
    /// back), so a retry appends it whole.
    func write(_ batch: SpooledBatch) throws {
        let record = SpoolRecord.encode(batch)
        var created = false
        if current == nil || segments[current!.firstSeq]!.bytes >= segmentBytes {
            try openSegment(firstSeq: batch.seq)
            created = true
        }
        let (firstSeq, descriptor) = current!
        let start = segments[firstSeq]!.bytes
        do {
            try DurableFile.writeAll(descriptor, record, path: segments[firstSeq]!.path)
            guard fsync(descriptor) == 0 else { throw SpoolError.io(path: segments[firstSeq]!.path, operation: "fsync", code: errno) }
            // A new file's name is durable only once the directory is.
            if created { try DurableFile.syncDirectory(of: segments[firstSeq]!.path) }
        } catch {
            if ftruncate(descriptor, off_t(start)) != 0 || lseek(descriptor, off_t(start), SEEK_SET) < 0 || start == 0 {
                // An empty or unrepairable segment: start a new one next time.
                close(descriptor)
                current = nil
                if start == 0 {
                    unlink(segments[firstSeq]!.path)
                    segments[firstSeq] = nil
                }
            }
            throw error
        }
        segments[firstSeq]!.bytes += record.count
        segments[firstSeq]!.live.insert(batch.seq)
        segmentOf[batch.seq] = firstSeq
        setSize(of: batch.seq, to: record.count)
    }

    private func setSize(of seq: UInt64, to bytes: Int?) {
        liveBytes += (bytes ?? 0) - (batchSizes[seq] ?? 0)
        batchSizes[seq] = bytes
    }

    /// Named after its first batch's seq, or the next free number: a segment being set
    /// aside at recovery can still hold the name.
    private func openSegment(firstSeq: UInt64) throws {
        if let current { close(current.descriptor) }
        current = nil
        var number = max(firstSeq, (segments.keys.max() ?? 0) + 1)
        while true {
            let digits = String(number)
            let path = (directory as NSString).appendingPathComponent("segment-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).tgs")
            let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if descriptor < 0 && errno == EEXIST {
                number += 1
                continue
            }
            guard descriptor >= 0 else { throw SpoolError.io(path: path, operation: "create", code: errno) }
            current = (number, descriptor)
            segments[number] = Segment(path: path, bytes: 0)
            return
        }
    }

    /// Notes a cumulative acknowledgement in the current segment, so a restart does not
    /// resend acknowledged batches that share a segment with unacknowledged ones. Not
    /// fsynced, and a failure is harmless: the aggregator acknowledges a resent batch
    /// without applying it again.
    func noteAcknowledged(through seq: UInt64) {
        guard let current, let segment = segments[current.firstSeq], !segments.values.allSatisfy({ $0.live.isEmpty }) else { return }
        let record = SpoolRecord.encodeAck(through: seq)
        if (try? DurableFile.writeAll(current.descriptor, record, path: segment.path)) != nil {
            segments[current.firstSeq]!.bytes += record.count
        } else if ftruncate(current.descriptor, off_t(segment.bytes)) != 0 || lseek(current.descriptor, off_t(segment.bytes), SEEK_SET) < 0 {
            close(current.descriptor)
            self.current = nil
        }
    }

    /// The batch is acknowledged or superseded. Its segment goes once nothing in it is live.
    /// Deleting needs no fsync: a segment that reappears after a power loss is resent, and
    /// the aggregator acknowledges what it already applied without applying it again.
    func remove(_ seq: UInt64) {
        setSize(of: seq, to: nil)
        guard let firstSeq = segmentOf.removeValue(forKey: seq) else { return }
        segments[firstSeq]?.live.remove(seq)
        guard let segment = segments[firstSeq], segment.live.isEmpty else { return }
        if let current, current.firstSeq == firstSeq {
            // The segment being appended to empties whenever the aggregator keeps up: reuse
            // it from the start rather than create and fsync a new file for every cut.
            if ftruncate(current.descriptor, 0) == 0, lseek(current.descriptor, 0, SEEK_SET) == 0 {
                segments[firstSeq]!.bytes = 0
                return
            }
            close(current.descriptor)
            self.current = nil
        }
        unlink(segment.path)
        segments[firstSeq] = nil
    }
}
