import Foundation
@testable import TollgateAgent
import Testing
import TollgateCore
import TollgateWire

@Suite struct SpoolTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-test-\(UUID())").path
    var spoolDirectory: String { "\(directory)/spool" }

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

    func files(_ suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    func segmentPath() throws -> String {
        let segments = files(".tgs")
        try #require(segments.count == 1, "\(segments)")
        return "\(spoolDirectory)/\(segments[0])"
    }

    @Test func batchesSurviveARestartInOrderInOneSegment() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover()
        for seq: UInt64 in [1, 2, 3] { try spool.write(try batch(seq, [cell("k\(seq)")])) }
        spool.remove(1)
        spool.noteAcknowledged(through: 1)
        #expect(files(".tgs").count == 1)

        let recovered = try Spool(stateDirectory: directory).recover()
        #expect(recovered.batches.map(\.seq) == [2, 3])
        #expect(try UsageBatchCodec.decodePayload(recovered.batches[1].payload) == [cell("k3")])
        #expect(recovered.corruptBatches == 0 && recovered.tornRecords == 0)
    }

    @Test func segmentsRollAtTheirSizeAndGoWhenEveryBatchInThemIsAcknowledged() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory, segmentBytes: 4096)
        _ = try spool.recover()
        for seq: UInt64 in 1...30 { try spool.write(try batch(seq, (0..<20).map { cell("key-\(seq)-\($0)", input: Int64($0)) })) }
        let before = files(".tgs")
        #expect(before.count >= 3, "\(before)")
        #expect(spool.totalBytes == before.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: "\(spoolDirectory)/\(name)")[.size] as? Int) ?? 0)
        })
        for seq: UInt64 in 1...20 { spool.remove(seq) }
        spool.noteAcknowledged(through: 20)
        let after = files(".tgs")
        #expect(after.count < before.count)
        #expect(after.allSatisfy { before.contains($0) })
        // Acknowledged batches sharing a segment with live ones are not resent after a restart.
        let recovered = try Spool(stateDirectory: directory, segmentBytes: 4096).recover()
        #expect(recovered.batches.map(\.seq) == Array(21...30))
    }

    @Test func theCurrentSegmentIsEmptiedNotRecreatedWhenTheAggregatorKeepsUp() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover()
        for seq: UInt64 in 1...50 {
            try spool.write(try batch(seq, [cell("k")]))
            spool.remove(seq)
        }
        #expect(files(".tgs").count == 1)
        #expect(spool.totalBytes == 0)
        #expect(try Spool(stateDirectory: directory).recover().batches.isEmpty)
    }

    @Test func aCorruptRecordIsSetAsideAndCountedAndTheRestKept() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover()
        for seq: UInt64 in 1...3 { try spool.write(try batch(seq, [cell("k\(seq)")])) }
        let path = try segmentPath()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let recordLength = bytes.count / 3
        bytes[recordLength + recordLength / 2] ^= 0xFF  // inside batch 2
        try bytes.write(to: URL(fileURLWithPath: path))

        let recovered = try Spool(stateDirectory: directory).recover()
        #expect(recovered.batches.map(\.seq) == [1, 3])
        #expect(recovered.corruptBatches == 1)
        #expect(FileManager.default.fileExists(atPath: path + ".corrupt"))
        // The whole records moved to a new segment: a second start finds them without the damage.
        let again = try Spool(stateDirectory: directory).recover()
        #expect(again.batches.map(\.seq) == [1, 3])
        #expect(again.corruptBatches == 0)
    }

    @Test func aTornTailIsTruncatedCountedAndAppendsContinueAfterIt() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover()
        try spool.write(try batch(1, [cell("a")]))
        let path = try segmentPath()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: SpoolRecord.encode(try batch(2, [cell("b")])).prefix(20))  // a crash mid-append
        try handle.close()

        let reopened = try Spool(stateDirectory: directory)
        let first = try reopened.recover()
        #expect(first.batches.map(\.seq) == [1])
        #expect(first.tornRecords == 1)
        try reopened.write(try batch(2, [cell("b")]))
        let second = try Spool(stateDirectory: directory).recover()
        #expect(second.batches.map(\.seq) == [1, 2])
        #expect(second.tornRecords == 0)
    }

    /// `liveBytes` is kept as batches come and go (the shipper reads it every pass), and
    /// always equals the sum of what is live, across a restart too.
    @Test func liveBytesFollowsWritesRemovalsAndRecovery() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover()
        #expect(spool.liveBytes == 0)
        for seq: UInt64 in 1...5 { try spool.write(try batch(seq, (0..<Int(seq)).map { cell("k\($0)") })) }
        #expect(spool.liveBytes == spool.batchSizes.values.reduce(0, +) && spool.liveBytes > 0)
        spool.remove(2)
        spool.remove(2)  // removing twice takes nothing more off
        spool.remove(4)
        #expect(spool.liveBytes == spool.batchSizes[1]! + spool.batchSizes[3]! + spool.batchSizes[5]!)

        // Removals without an ack record come back on restart (and are resent): counted again.
        let restarted = try Spool(stateDirectory: directory)
        let recovered = try restarted.recover().batches
        #expect(restarted.liveBytes == restarted.batchSizes.values.reduce(0, +) && restarted.liveBytes > 0)
        for batch in recovered { restarted.remove(batch.seq) }
        #expect(restarted.liveBytes == 0)
    }

    @Test func aMergedBatchReplacesWhatItSupersedes() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try Spool(stateDirectory: directory)
        _ = try spool.recover()
        for seq: UInt64 in 1...4 { try spool.write(try batch(seq, [cell("k", minute: Int64(seq))])) }
        // Crash after writing the merge of 2...4 but before removing them.
        try spool.write(try batch(5, (2...4).map { cell("k", minute: Int64($0)) }, supersedes: 2...4))
        let recovered = try Spool(stateDirectory: directory).recover()
        #expect(recovered.batches.map(\.seq) == [1, 5])
    }

    @Test func aOneFilePerBatchSpoolIsReadAndMovedIntoASegment() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
        for seq: UInt64 in [4, 5] {
            let name = String(format: "batch-%020llu.tgb", seq)
            try SpoolRecord.encodeLegacyFile(try batch(seq, [cell("legacy\(seq)")])).write(to: URL(fileURLWithPath: "\(spoolDirectory)/\(name)"))
        }
        let recovered = try Spool(stateDirectory: directory).recover()
        #expect(recovered.batches.map(\.seq) == [4, 5])
        #expect(recovered.migratedLegacyFiles == 2)
        #expect(files(".tgb").isEmpty)
        #expect(files(".tgs").count == 1)
        #expect(try Spool(stateDirectory: directory).recover().batches.map(\.seq) == [4, 5])
    }
}
