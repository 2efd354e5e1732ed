import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateWire

@Suite struct EventLogTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eventlog-test-\(UUID())").path

    func event(_ key: String) -> UsageEvent {
        var dimensions = Dimensions()
        dimensions.keyID = key
        dimensions.model = "gpt-4o"
        return UsageEvent(unixTime: 6_000, dimensions: dimensions, tokens: TokenUsage(input: 10, output: 5), cost: Nanodollars(100))
    }

    func makeLog() throws -> EventLog {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return EventLog(directory: directory)
    }

    func keys(_ cells: [Cell]) -> [String] { cells.map(\.key.dimensions.keyID).sorted() }

    @Test func recordsOfCutEpochsAreSkippedAndLaterOnesRecovered() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try makeLog()
        let recorder = UsageRecorder(capacity: 64, log: log)
        _ = try log.rotate(to: 4)
        recorder.record(event("in-batch-4"))
        _ = try log.rotate(to: 5)
        recorder.record(event("uncut-1"))
        recorder.record(event("uncut-2"))
        #expect(recorder.drain().map(\.epoch) == [4, 5, 5])

        let recovery = EventLog(directory: directory).recover(firstUncut: 5)
        #expect(keys(recovery.cells) == ["uncut-1", "uncut-2"])
        #expect(recovery.highestEpoch == 5)
        log.removeFiles(through: 4)
        #expect(log.files().map(\.epoch) == [5])
    }

    @Test func aTornRecordInsideALogIsSkippedAndLaterWholeRecordsKept() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try makeLog()
        let recorder = UsageRecorder(capacity: 64, log: log)
        let file = try #require(try { _ = try log.rotate(to: 1); return log.withCurrentEpoch { $0 } }())
        recorder.record(event("before"))
        // A write cut short by a full disk, then another writer's whole record after it.
        log.append(Array(EventRecord.encode(event("torn"), epoch: 1).prefix(30)), to: file)
        recorder.record(event("after"))
        log.append(EventRecord.probe, to: file)

        let recovery = EventLog(directory: directory).recover(firstUncut: 1)
        #expect(keys(recovery.cells) == ["after", "before"])
        #expect(recovery.tornRecords == 1)
    }

    @Test func theLegacyEventLogIsReadByGeneration() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try makeLog()
        var data = Data()
        for (generation, key) in [(3, "cut"), (4, "uncut")] {
            var body = ByteWriter()
            body.append(UInt64(generation))
            body.append(try Tollgate_V1_Cell(Cell(key: CellKey(minute: 100, dimensions: event(key).dimensions), counters: UsageCounters(event(key)))).serializedData())
            var record = ByteWriter()
            record.append(UInt32(body.data.count))
            record.append(CRC32C.checksum(body.data))
            record.append(body.data)
            data.append(record.data)
        }
        try data.write(to: URL(fileURLWithPath: "\(directory)/events.log"))
        let recovery = EventLog(directory: directory).recover(firstUncut: 4)
        #expect(keys(recovery.cells) == ["uncut"])
        #expect(recovery.highestEpoch == 4)
    }

    /// The cut's handshake under contention: writers on several threads record while the
    /// meter cuts epoch after epoch. Every event must land in exactly one of: a cut epoch's
    /// batch, or (after a simulated crash) recovery from the logs of uncut epochs.
    @Test func underConcurrentWritersEveryEventIsInExactlyOneBatch() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try makeLog()
        let recorder = UsageRecorder(capacity: 256, log: log)
        _ = try log.rotate(to: 1)
        let writers = 4, perWriter = 3_000
        let done = ManagedCounter()
        let threads = (0..<writers).map { writer in
            Thread {
                for index in 0..<perWriter { recorder.record(event("w\(writer)-\(index)")) }
                done.increment()
            }
        }
        threads.forEach { $0.start() }

        var batches: [UInt64: [String]] = [:]
        var open: [String] = []  // drained events of the current epoch
        var epoch: UInt64 = 1
        func take(_ drained: [RecordedUsage], cutting: UInt64, into next: inout [String]) {
            for usage in drained {
                #expect(usage.logged)
                if usage.epoch <= cutting { open.append(usage.event.dimensions.keyID) } else { next.append(usage.event.dimensions.keyID) }
            }
        }
        while done.value < writers || epoch < 20 {
            var next: [String] = []
            take(recorder.drain(), cutting: epoch, into: &next)
            open += next
            guard let old = try log.rotate(to: epoch + 1) else { break }
            next = []
            while true {
                let quiet = log.writersInside(old) == 0
                take(recorder.drain(), cutting: epoch, into: &next)
                if quiet { break }
                sched_yield()
            }
            batches[epoch] = open
            log.removeFiles(through: epoch)  // the batch is durable
            open = next
            epoch += 1
            if done.value == writers && epoch >= 20 { break }
        }
        // Crash: whatever is in the current epoch is only in its log.
        let recovered = EventLog(directory: directory).recover(firstUncut: epoch)
        var all = batches.values.flatMap { $0 } + recovered.cells.map(\.key.dimensions.keyID)
        var inMemoryOnly = open
        inMemoryOnly += recorder.drain().map(\.event.dimensions.keyID)
        all.sort()
        let expected = (0..<writers).flatMap { writer in (0..<perWriter).map { "w\(writer)-\($0)" } }.sorted()
        #expect(all.count == expected.count)
        #expect(all == expected)
        #expect(Set(inMemoryOnly).isSubset(of: Set(recovered.cells.map(\.key.dimensions.keyID))))
    }
}

/// A counter the writer threads bump when done.
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
