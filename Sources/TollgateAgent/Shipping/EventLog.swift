import Foundation
import NIOConcurrencyHelpers
import TollgateCore
import TollgateWire

/// The on-disk log of usage not yet cut into a batch: `state_dir/spool/events-<epoch>.log`.
///
/// An exchange's event loop appends its usage here itself, with one `write(2)` to an
/// `O_APPEND` file, *before* the response's last byte goes to the client. A process crash
/// cannot lose it after that (the data is in the kernel's page cache); nothing here is
/// fsynced, so an event loop never waits on a disk flush. A machine crash can lose the
/// unsynced tail, at most one flush interval of usage, until the next cut's batch fsync.
///
/// **Epochs keep the cut exactly-once.** Every record is tagged with the epoch of the file it
/// is written to, and the epoch is the seq of the batch that will hold it. The meter cuts
/// batch `E` by opening `events-<E+1>.log` and switching writers to it, waiting until no
/// writer is still inside epoch `E` (an append and the ring push that follows it happen
/// inside one `enter`/`leave`), then folding every epoch-`E` event into batch `E`. Once that
/// batch is durable, files up to `E` are deleted. Recovery keeps records whose tag is at least
/// the first seq not yet cut, so a record is in exactly one batch whichever instant the
/// process dies.
final class EventLog: @unchecked Sendable {
    /// One epoch's file. Its descriptor is closed only once no writer is inside it.
    final class File: @unchecked Sendable {
        let epoch: UInt64
        let path: String
        fileprivate let descriptor: Int32
        /// Writers between `enter` and `leave`; guarded by the log's lock.
        fileprivate var writers = 0

        fileprivate init(epoch: UInt64, path: String, descriptor: Int32) {
            self.epoch = epoch
            self.path = path
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }
    }

    /// What recovery found in the logs a previous run left behind.
    struct Recovery {
        /// Usage from records whose batch was never cut.
        var cells: [Cell] = []
        /// The highest epoch any file or record names: a new run's first epoch must be above
        /// it, so its records never share a file with records of an earlier numbering.
        var highestEpoch: UInt64 = 0
        var tornRecords = 0
    }

    let directory: String
    private let state: NIOLockedValueBox<File?>
    /// Appends that failed (disk full, I/O error), for the meter to count and report.
    private let failures = NIOLockedValueBox((count: 0, lastErrno: Int32(0), refusing: false))

    /// Written by versions before per-epoch files; read at recovery, deleted after the first cut.
    static let legacyName = "events.log"

    init(directory: String) {
        self.directory = directory
        state = NIOLockedValueBox(nil)
    }

    static func fileName(epoch: UInt64) -> String {
        let digits = String(epoch)
        return "events-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).log"
    }

    // MARK: Writers (any event loop)

    /// Runs `body` inside the current epoch: `append` inside it lands in a file whose epoch
    /// the meter will not cut until `body` returns. Never blocks on I/O or on the meter.
    func withCurrentEpoch<R>(_ body: (File?) -> R) -> R {
        let file = state.withLockedValue { file -> File? in
            file?.writers += 1
            return file
        }
        defer {
            if let file { state.withLockedValue { _ in file.writers -= 1 } }
        }
        return body(file)
    }

    /// One `write(2)`: O_APPEND makes concurrent appends land whole and one after another.
    /// Returns false (and counts the failure) if the record did not land whole.
    @discardableResult
    func append(_ record: [UInt8], to file: File) -> Bool {
        let written = record.withUnsafeBytes { write(file.descriptor, $0.baseAddress, $0.count) }
        if written == record.count { return true }
        let code = written < 0 ? errno : ENOSPC
        failures.withLockedValue { $0 = ($0.count + 1, code, true) }
        return false
    }

    /// Failed appends since start and the last error, read by the meter.
    var appendFailures: (count: Int, lastErrno: Int32) { failures.withLockedValue { ($0.count, $0.lastErrno) } }

    /// Set by the first failed append, on the event loop that saw it, so `spool.on_full:
    /// deny` refuses the very next request rather than after the meter's next pass.
    var refusing: Bool { failures.withLockedValue { $0.refusing } }

    /// The meter wrote to the log again.
    func acceptsWritesAgain() { failures.withLockedValue { $0.refusing = false } }

    // MARK: The meter

    var currentEpoch: UInt64? { state.withLockedValue { $0?.epoch } }

    /// Opens `events-<epoch>.log` (appending if it exists) and sends writers there. Returns
    /// the file writers used until now; `writersInside` tells when it is quiet.
    func rotate(to epoch: UInt64) throws -> File? {
        let path = (directory as NSString).appendingPathComponent(Self.fileName(epoch: epoch))
        let descriptor = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw SpoolError.io(path: path, operation: "create", code: errno) }
        let fresh = File(epoch: epoch, path: path, descriptor: descriptor)
        return state.withLockedValue { file in
            defer { file = fresh }
            return file
        }
    }

    func writersInside(_ file: File) -> Int {
        state.withLockedValue { _ in file.writers }
    }

    /// After batch `epoch` is durable: its records (and older ones) are no longer needed.
    func removeFiles(through epoch: UInt64) {
        for (fileEpoch, path) in files() where fileEpoch <= epoch { unlink(path) }
    }

    /// Bytes in every log file, for the spool gauge.
    var bytesOnDisk: Int {
        files().reduce(0) { total, entry in
            var info = stat()
            return total + (stat(entry.path, &info) == 0 ? Int(info.st_size) : 0)
        }
    }

    /// Every log file with its epoch; the legacy `events.log` counts as epoch 0, so the first
    /// cut of a new run removes it.
    func files() -> [(epoch: UInt64, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (UInt64, String)? in
            let path = (directory as NSString).appendingPathComponent(name)
            if name == Self.legacyName { return (0, path) }
            guard name.hasPrefix("events-"), name.hasSuffix(".log"),
                  let epoch = UInt64(name.dropFirst("events-".count).dropLast(".log".count)) else { return nil }
            return (epoch, path)
        }.sorted { $0.0 < $1.0 }
    }

    // MARK: Recovery

    /// Reads every log a previous run left. Records tagged below `firstUncut` are already
    /// inside a durable batch and skipped. A torn record (a write cut short by a crash or a
    /// full disk) is skipped and counted; reading resumes at the next whole record.
    func recover(firstUncut: UInt64) -> Recovery {
        var recovery = Recovery()
        for (epoch, path) in files() {
            recovery.highestEpoch = max(recovery.highestEpoch, epoch)
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let scan = epoch == 0 && path.hasSuffix(Self.legacyName) ? EventRecord.scanLegacy(data) : EventRecord.scan(data)
            recovery.tornRecords += scan.torn
            for record in scan.records {
                recovery.highestEpoch = max(recovery.highestEpoch, record.epoch)
                if record.epoch >= firstUncut { recovery.cells.append(record.cell) }
            }
        }
        return recovery
    }
}
