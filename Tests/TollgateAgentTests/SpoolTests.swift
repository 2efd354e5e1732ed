import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateWire

@Suite struct SpoolTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-test-\(UUID())").path

    func cell(_ key: String, minute: Int64 = 100, input: Int64 = 10) -> Cell {
        var dimensions = Dimensions()
        dimensions.keyID = key
        dimensions.model = "gpt-4o"
        var counters = UsageCounters()
        counters.requests = 1
        counters.tokens.input = input
        counters.cost = Nanodollars(input * 2_500)
        return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
    }

    func batch(_ seq: UInt64, _ cells: [Cell], supersedes: ClosedRange<UInt64>? = nil) throws -> SpooledBatch {
        SpooledBatch(seq: seq, payload: try UsageBatchCodec.encodePayload(cells), supersedes: supersedes)
    }

    @Test func batchesSurviveARestartInOrder() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover(nextSeq: 1)
        for seq: UInt64 in [3, 1, 2] { try spool.write(try batch(seq, [cell("k\(seq)")])) }
        spool.remove(2)

        let recovered = try Spool(stateDirectory: directory).recover(nextSeq: 4)
        #expect(recovered.batches.map(\.seq) == [1, 3])
        #expect(try UsageBatchCodec.decodePayload(recovered.batches[1].payload) == [cell("k3")])
        #expect(recovered.corruptBatches == 0)
    }

    @Test func aCorruptBatchIsSetAsideAndCounted() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover(nextSeq: 1)
        try spool.write(try batch(1, [cell("a")]))
        try spool.write(try batch(2, [cell("b")]))
        let path = "\(directory)/spool/batch-00000000000000000001.tgb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))

        let recovered = try Spool(stateDirectory: directory).recover(nextSeq: 3)
        #expect(recovered.batches.map(\.seq) == [2])
        #expect(recovered.corruptBatches == 1)
        #expect(FileManager.default.fileExists(atPath: path + ".corrupt"))
    }

    @Test func eventsNotYetCutAreRecoveredAndCutOnesAreNot() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover(nextSeq: 5)
        try spool.appendEvents([cell("old")], generation: 4)  // already inside batch 4
        try spool.appendEvents([cell("new1"), cell("new2")], generation: 5)

        let recovered = try Spool(stateDirectory: directory).recover(nextSeq: 5)
        #expect(recovered.pendingCells == [cell("new1"), cell("new2")])
    }

    @Test func aBatchWrittenJustBeforeACrashCoversItsEvents() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover(nextSeq: 7)
        try spool.appendEvents([cell("x")], generation: 7)
        try spool.write(try batch(7, [cell("x")]))
        // Crash here: the identity still says 7 and events.log was not cleared.
        let recovered = try Spool(stateDirectory: directory).recover(nextSeq: 7)
        #expect(recovered.batches.map(\.seq) == [7])
        #expect(recovered.pendingCells.isEmpty)
    }

    @Test func aTornEventTailIsCutOffAndLaterEventsStillRecover() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover(nextSeq: 1)
        try spool.appendEvents([cell("kept")], generation: 1)
        let log = URL(fileURLWithPath: "\(directory)/spool/events.log")
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([40, 0, 0, 0, 1, 2, 3]))  // a record cut short by a crash
        try handle.close()

        let reopened = try Spool(stateDirectory: directory)
        let first = try reopened.recover(nextSeq: 1)
        #expect(first.pendingCells == [cell("kept")])
        #expect(first.tornEventRecords == 1)
        try reopened.appendEvents([cell("after")], generation: 1)
        let second = try Spool(stateDirectory: directory).recover(nextSeq: 1)
        #expect(second.pendingCells == [cell("kept"), cell("after")])
        #expect(second.tornEventRecords == 0)
    }

    @Test func aMergedBatchReplacesWhatItSupersedes() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover(nextSeq: 1)
        for seq: UInt64 in 1...4 { try spool.write(try batch(seq, [cell("k", minute: Int64(seq))])) }
        // Crash after writing the merge of 2...4 but before deleting them.
        try spool.write(try batch(5, (2...4).map { cell("k", minute: Int64($0)) }, supersedes: 2...4))
        let recovered = try Spool(stateDirectory: directory).recover(nextSeq: 5)
        #expect(recovered.batches.map(\.seq) == [1, 5])
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/spool/batch-00000000000000000003.tgb"))
    }
}
