import Foundation
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// A fresh directory under the system temp dir, removed when the test body returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("tollgate-store-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

@Suite struct UsageStoreTests {
    static func cell(minute: Int64, key: String, model: String, requests: Int64 = 1, input: Int64 = 100,
                     output: Int64 = 10, cost: Int64 = 1_000) -> Cell {
        var dimensions = Dimensions()
        dimensions.keyID = key
        dimensions.keyHint = "hint-\(key)"
        dimensions.provider = "openai"
        dimensions.model = model
        dimensions.host = "web-1"
        var counters = UsageCounters()
        counters.requests = requests
        counters.tokens = TokenUsage(input: input, output: output)
        counters.cost = Nanodollars(cost)
        return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
    }

    static func batch(_ seq: UInt64, floor: UInt64 = 0, agent: String = "agent-1", _ cells: [Cell]) -> UsageBatchMessage {
        UsageBatchMessage(agentID: agent, seq: seq, floorSeq: floor, cells: cells)
    }

    static func total(_ groups: [UsageGroup]) -> UsageCounters {
        var sum = UsageCounters()
        for group in groups { sum.add(group.counters) }
        return sum
    }

    @Test func applyThenQueryGivesExactTotals() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let cells = [Self.cell(minute: 10, key: "k1", model: "gpt-4o", requests: 3, input: 300, output: 30, cost: 5_000),
                         Self.cell(minute: 11, key: "k2", model: "gpt-4o", requests: 2, input: 200, output: 20, cost: 7_000)]
            #expect(try store.apply(Self.batch(1, cells)) == .applied)
            #expect(try store.lastSeq(agentID: "agent-1") == 1)

            let groups = try store.query(fromMinute: 0, toMinute: 100, groupBy: [])
            #expect(groups.count == 1)
            #expect(groups.first?.dimensions == Dimensions())
            let total = Self.total(groups)
            #expect(total.requests == 5)
            #expect(total.tokens.input == 500)
            #expect(total.tokens.output == 50)
            #expect(total.cost == Nanodollars(12_000))
        }
    }

    @Test func unknownAgentHasLastSeqZero() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            #expect(try store.lastSeq(agentID: "nobody") == 0)
        }
    }

    @Test func duplicateBatchIsNotCountedTwice() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let first = Self.batch(1, [Self.cell(minute: 1, key: "k1", model: "m", cost: 100)])
            #expect(try store.apply(first) == .applied)
            #expect(try store.apply(first) == .duplicate(lastSeq: 1))
            #expect(try store.apply(Self.batch(2, [Self.cell(minute: 1, key: "k1", model: "m", cost: 50)])) == .applied)
            #expect(try store.apply(first) == .duplicate(lastSeq: 2))
            #expect(try Self.total(store.query(fromMinute: 0, toMinute: 10, groupBy: [])).cost == Nanodollars(150))
        }
    }

    @Test func gapIsRejectedAndNothingWritten() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            #expect(try store.apply(Self.batch(1, [Self.cell(minute: 1, key: "k1", model: "m")])) == .applied)
            #expect(try store.apply(Self.batch(3, [Self.cell(minute: 1, key: "k1", model: "m")])) == .gap(expected: 2))
            #expect(try store.lastSeq(agentID: "agent-1") == 1)
            #expect(try Self.total(store.query(fromMinute: 0, toMinute: 10, groupBy: [])).requests == 1)
        }
    }

    @Test func firstBatchOfAnAgentMustBeSeqOne() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            #expect(try store.apply(Self.batch(2, [Self.cell(minute: 1, key: "k1", model: "m")])) == .gap(expected: 1))
        }
    }

    @Test func floorSeqJumpIsAccepted() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            #expect(try store.apply(Self.batch(1, [Self.cell(minute: 1, key: "k1", model: "m")])) == .applied)
            // The agent dropped batches 2…9 and says so with floorSeq 10.
            #expect(try store.apply(Self.batch(10, floor: 10, [Self.cell(minute: 1, key: "k1", model: "m")])) == .applied)
            #expect(try store.lastSeq(agentID: "agent-1") == 10)
            #expect(try store.apply(Self.batch(11, floor: 10, [])) == .applied)
            // Below the floor is never applied, even if it was not seen.
            #expect(try store.apply(Self.batch(12, floor: 13, [])) == .duplicate(lastSeq: 11))
            #expect(try store.apply(Self.batch(14, floor: 13, [])) == .gap(expected: 13))
            #expect(try Self.total(store.query(fromMinute: 0, toMinute: 10, groupBy: [])).requests == 2)
        }
    }

    @Test func agentsAreSequencedIndependently() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            #expect(try store.apply(Self.batch(1, agent: "a", [])) == .applied)
            #expect(try store.apply(Self.batch(1, agent: "b", [])) == .applied)
            #expect(try store.lastSeq(agentID: "a") == 1)
            #expect(try store.lastSeq(agentID: "b") == 1)
        }
    }

    @Test func cellsWithTheSameKeyInOneBatchAreSummed() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let cells = [Self.cell(minute: 5, key: "k1", model: "m", requests: 1, cost: 10),
                         Self.cell(minute: 5, key: "k1", model: "m", requests: 2, cost: 20),
                         Self.cell(minute: 5, key: "k1", model: "m", requests: 4, cost: 40)]
            #expect(try store.apply(Self.batch(1, cells)) == .applied)
            let groups = try store.query(fromMinute: 5, toMinute: 6, groupBy: [.key, .model])
            #expect(groups.count == 1)
            #expect(groups.first?.counters.requests == 7)
            #expect(groups.first?.counters.cost == Nanodollars(70))
        }
    }

    @Test func dataSurvivesReopeningTheStore() throws {
        try withTemporaryDirectory { directory in
            do {
                let store = try UsageStore(directory: directory)
                #expect(try store.apply(Self.batch(1, [Self.cell(minute: 1, key: "k1", model: "m", cost: 123)])) == .applied)
            } // The store is released here, closing RocksDB and its lock.
            let reopened = try UsageStore(directory: directory)
            #expect(try reopened.lastSeq(agentID: "agent-1") == 1)
            #expect(try reopened.apply(Self.batch(1, [Self.cell(minute: 1, key: "k1", model: "m", cost: 123)])) == .duplicate(lastSeq: 1))
            #expect(try reopened.apply(Self.batch(2, [Self.cell(minute: 1, key: "k1", model: "m", cost: 7)])) == .applied)
            #expect(try Self.total(reopened.query(fromMinute: 0, toMinute: 10, groupBy: [])).cost == Nanodollars(130))
        }
    }

    @Test func secondOpenOfTheSameDirectoryFailsWithAnActionableError() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let error = #expect(throws: StoreError.self) { try UsageStore(directory: directory) }
            #expect(error?.description.contains(directory) == true)
            _ = store
        }
    }

    @Test func queryGroupsByTheRequestedDimensions() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let cells = [Self.cell(minute: 1, key: "k1", model: "gpt-4o", cost: 100),
                         Self.cell(minute: 2, key: "k1", model: "gpt-4o", cost: 100),
                         Self.cell(minute: 1, key: "k2", model: "gpt-4o", cost: 50),
                         Self.cell(minute: 1, key: "k1", model: "claude", cost: 400)]
            #expect(try store.apply(Self.batch(1, cells)) == .applied)

            let byKeyAndModel = try store.query(fromMinute: 0, toMinute: 10, groupBy: [.key, .model])
            #expect(byKeyAndModel.map { [$0.dimensions.keyID, $0.dimensions.model] } ==
                    [["k1", "claude"], ["k1", "gpt-4o"], ["k2", "gpt-4o"]])
            #expect(byKeyAndModel.map(\.counters.cost.value) == [400, 200, 50])
            #expect(byKeyAndModel.allSatisfy { $0.dimensions.keyHint == "hint-\($0.dimensions.keyID)" })
            #expect(byKeyAndModel.allSatisfy { $0.dimensions.provider.isEmpty && $0.dimensions.host.isEmpty })

            let byModel = try store.query(fromMinute: 0, toMinute: 10, groupBy: [.model])
            #expect(byModel.map(\.dimensions.model) == ["claude", "gpt-4o"])
            #expect(byModel.map(\.counters.cost.value) == [400, 250])
            #expect(byModel.allSatisfy { $0.dimensions.keyID.isEmpty && $0.dimensions.keyHint.isEmpty })
        }
    }

    @Test func everySplitsGroupsByTimeBucket() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            // Minutes 0 and 59 are hour 0, 60 is hour 1; 1,440 is the next day.
            let cells = [Self.cell(minute: 0, key: "k", model: "a", cost: 1), Self.cell(minute: 59, key: "k", model: "a", cost: 2),
                         Self.cell(minute: 60, key: "k", model: "a", cost: 4), Self.cell(minute: 1_440, key: "k", model: "b", cost: 8)]
            #expect(try store.apply(Self.batch(1, cells)) == .applied)
            let hourly = try store.query(fromMinute: 0, toMinute: 2_000, groupBy: [.model], every: .hour)
            #expect(hourly.map(\.bucketStartMinute) == [0, 60, 1_440])
            #expect(hourly.map(\.counters.cost.value) == [3, 4, 8])
            let daily = try store.query(fromMinute: 0, toMinute: 2_000, groupBy: [], every: .day)
            #expect(daily.map(\.counters.cost.value) == [7, 8])
            #expect(UsageRow(daily[1], by: []).bucket == "1970-01-02T00:00:00Z")
        }
    }

    @Test func equalCostGroupsAreOrderedByDimensionValues() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let cells = ["c", "a", "b"].map { Self.cell(minute: 1, key: "k", model: $0, cost: 10) }
            #expect(try store.apply(Self.batch(1, cells)) == .applied)
            #expect(try store.query(fromMinute: 0, toMinute: 2, groupBy: [.model]).map(\.dimensions.model) == ["a", "b", "c"])
        }
    }

    @Test func queryRangeIncludesFromAndExcludesTo() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let cells = [Int64]([-2, -1, 0, 1, 2, 3]).map { Self.cell(minute: $0, key: "k", model: "m", requests: 1, cost: 1 << ($0 + 2)) }
            #expect(try store.apply(Self.batch(1, cells)) == .applied)

            func requests(_ from: Int64, _ to: Int64) throws -> Int64 {
                try Self.total(store.query(fromMinute: from, toMinute: to, groupBy: [])).requests
            }
            #expect(try requests(-1, 2) == 3) // minutes -1, 0, 1
            #expect(try requests(0, 1) == 1)
            #expect(try requests(3, 4) == 1)
            #expect(try requests(1, 1) == 0)
            // A range that ends before it starts is a caller's mistake, said so (it used to read as empty).
            #expect(throws: UsageRangeError.self) { try requests(2, 1) }
            #expect(try requests(Int64.min, Int64.max) == 6)
            #expect(try Self.total(store.query(fromMinute: -1, toMinute: 2, groupBy: [])).cost == Nanodollars(2 + 4 + 8))
        }
    }
}

/// Shutdown closes the database explicitly (a process that exits with it open can abort in
/// RocksDB's static teardown), so whatever still calls the store afterwards must get an
/// error, never touch a closed handle.
@Suite struct UsageStoreCloseTests {
    @Test func everyOperationAfterCloseThrowsClosed() throws {
        try withTemporaryDirectory { path in
            let store = try UsageStore(directory: path)
            _ = try store.apply(UsageStoreTests.batch(1, [UsageStoreTests.cell(minute: 10, key: "k", model: "m")]))
            store.close()
            store.close()  // idempotent
            #expect(throws: StoreError.closed) {
                _ = try store.apply(UsageStoreTests.batch(2, [UsageStoreTests.cell(minute: 10, key: "k", model: "m")]))
            }
            #expect(throws: StoreError.closed) {
                _ = try store.query(fromMinute: 0, toMinute: 100, groupBy: [.model])
            }
        }
    }

    @Test func reopeningAfterCloseSeesEverythingCommitted() throws {
        try withTemporaryDirectory { path in
            let first = try UsageStore(directory: path)
            _ = try first.apply(UsageStoreTests.batch(1, [UsageStoreTests.cell(minute: 10, key: "k", model: "m", requests: 3)]))
            first.close()
            // The lock file is released by close itself, not by deinit: a second open works
            // while the first object is still alive.
            try withExtendedLifetime(first) {
                let reopened = try UsageStore(directory: path)
                let groups = try reopened.query(fromMinute: 0, toMinute: 100, groupBy: [.model])
                #expect(UsageStoreTests.total(groups).requests == 3)
            }
        }
    }
}
