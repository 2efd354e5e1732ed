import Foundation
import Synchronization
import Testing
import TollgateCore
import TollgateWire
@testable import TollgateAggregator

/// The ingest path as the server runs it: cells read from the batch's bytes, counters merged
/// inside RocksDB, budgets matched from bytes, batches committed in groups.
@Suite struct IngestPipelineTests {
    static func cell(minute: Int64, key: String, team: String, model: String = "gpt-4o", cost: Int64) -> Cell {
        var dimensions = Dimensions()
        dimensions.keyID = key
        dimensions.keyHint = "sk-…\(key)"
        dimensions.provider = "openai"
        dimensions.model = model
        dimensions.team = team
        dimensions.environment = ["ci", "prod"][abs(key.hashValue) % 2]
        var counters = UsageCounters()
        counters.requests = 1
        counters.tokens = TokenUsage(input: 100, output: 10)
        counters.cost = Nanodollars(cost)
        return Cell(key: CellKey(minute: minute, dimensions: dimensions), counters: counters)
    }

    static func batch(_ seq: UInt64, agent: String = "agent-1", _ cells: [Cell]) -> UsageBatchMessage {
        UsageBatchMessage(agentID: agent, seq: seq, floorSeq: 0, cells: cells)
    }

    static func total(_ store: UsageStore) throws -> UsageCounters {
        var sum = UsageCounters()
        for group in try store.query(fromMinute: Int64.min / 2, toMinute: Int64.max / 2, groupBy: []) { sum.add(group.counters) }
        return sum
    }

    @Test func countersMergedInsideRocksDBStayExactThroughFlushCompactionAndReopen() throws {
        try withTemporaryDirectory { directory in
            let cells = (0..<40).map { Self.cell(minute: 500 + Int64($0 % 3), key: "k\($0 % 7)", team: "ml", cost: Int64($0) * 1_001) }
            let expectedCost = cells.reduce(Int64(0)) { $0 + $1.counters.cost.value } * 6
            do {
                let store = try UsageStore(directory: directory)
                for seq in 1...3 { #expect(try store.apply(Self.batch(UInt64(seq), cells)) == .applied) }
                try store.db.flushAndCompact()
                for seq in 4...6 { #expect(try store.apply(Self.batch(UInt64(seq), cells)) == .applied) }
                #expect(try Self.total(store).cost.value == expectedCost)
            }
            let reopened = try UsageStore(directory: directory)
            #expect(try Self.total(reopened).cost.value == expectedCost)
            #expect(try Self.total(reopened).requests == 240)
            try reopened.db.flushAndCompact()
            #expect(try Self.total(reopened).cost.value == expectedCost)
            #expect(try reopened.apply(Self.batch(6, cells)) == .duplicate(lastSeq: 6))
        }
    }

    @Test func totalsWrittenBeforeCountersWereMergedAreFoldedIn() throws {
        // Data directories from before the merge operator hold plain puts of the same format.
        try withTemporaryDirectory { directory in
            let cell = Self.cell(minute: 9, key: "k", team: "ml", cost: 5)
            let store = try UsageStore(directory: directory)
            var old = UsageCounters()
            old.requests = 10
            old.cost = Nanodollars(1_000)
            let writes = WriteBatch()
            writes.put(key: CellKeyCodec.encode(cell.key), value: CountersCodec.encode(old))
            try store.db.write(writes, sync: true)
            #expect(try store.apply(Self.batch(1, [cell])) == .applied)
            #expect(try Self.total(store).requests == 11)
            #expect(try Self.total(store).cost.value == 1_005)
        }
    }

    /// A data directory written before 1-hour cache writes holds 88-byte values (and merge
    /// operands); new 96-byte operands merge with them, through flush and compaction.
    @Test func version1CountersMergeWithVersion2Operands() throws {
        try withTemporaryDirectory { directory in
            var cell = Self.cell(minute: 9, key: "k", team: "ml", cost: 5)
            cell.counters.tokens = TokenUsage(input: 100, cacheWrite: 40, cacheWrite1h: 30, output: 10)
            let store = try UsageStore(directory: directory)
            var old = UsageCounters()
            old.requests = 10
            old.tokens = TokenUsage(input: 1_000, cacheWrite: 200, output: 50)
            old.cost = Nanodollars(1_000)
            let version1 = Array(CountersCodec.encode(old).prefix(CountersCodec.version1ByteCount))
            let writes = WriteBatch()
            let key = CellKeyCodec.encode(cell.key)
            key.withUnsafeBytes { key in version1.withUnsafeBytes { writes.merge(key: key, value: $0) } }
            try store.db.write(writes, sync: true)
            #expect(try store.apply(Self.batch(1, [cell])) == .applied)
            for _ in 0..<2 {
                let total = try Self.total(store)
                #expect(total.requests == 11)
                #expect(total.tokens == TokenUsage(input: 1_100, cacheWrite: 240, cacheWrite1h: 30, output: 60))
                #expect(total.cost.value == 1_005)
                try store.db.flushAndCompact()
            }
        }
    }

    /// Values written before routing (96 bytes) merge with new operands that carry routed
    /// requests and their savings, through flush and compaction, and roll up into hours.
    @Test func version2CountersMergeWithRoutedOperands() throws {
        try withTemporaryDirectory { directory in
            var cell = Self.cell(minute: 9, key: "k", team: "ml", cost: 5)
            cell.counters.routed = 1
            cell.counters.routingSavings = Nanodollars(-3)
            var second = cell
            second.counters.routingSavings = Nanodollars(25)
            let store = try UsageStore(directory: directory)
            var old = UsageCounters()
            old.requests = 10
            old.cost = Nanodollars(1_000)
            let version2 = Array(CountersCodec.encode(old).prefix(CountersCodec.version2ByteCount))
            let writes = WriteBatch()
            let key = CellKeyCodec.encode(cell.key)
            key.withUnsafeBytes { key in version2.withUnsafeBytes { writes.merge(key: key, value: $0) } }
            try store.db.write(writes, sync: true)
            #expect(try store.apply(Self.batch(1, [cell])) == .applied)
            #expect(try store.apply(Self.batch(2, [second])) == .applied)
            for _ in 0..<2 {
                let total = try Self.total(store)
                #expect(total.requests == 12)
                #expect(total.cost.value == 1_010)
                #expect(total.routed == 2)
                #expect(total.routingSavings.value == 22)
                try store.db.flushAndCompact()
            }
        }
    }

    @Test func aCorruptStoredCounterIsAReadErrorNotACrash() throws {
        try withTemporaryDirectory { directory in
            let cell = Self.cell(minute: 9, key: "k", team: "ml", cost: 5)
            let store = try UsageStore(directory: directory)
            let writes = WriteBatch()
            writes.put(key: CellKeyCodec.encode(cell.key), value: [1, 2, 3])
            try store.db.write(writes, sync: true)
            #expect(try store.apply(Self.batch(1, [cell])) == .applied)
            #expect(throws: StoreError.self) { try Self.total(store) }
        }
    }

    @Test func aGroupCommitAnswersEachBatchInOrder() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let a1 = Self.batch(1, agent: "a", [Self.cell(minute: 1, key: "k", team: "ml", cost: 100)])
            let a3 = Self.batch(3, agent: "a", [Self.cell(minute: 1, key: "k", team: "ml", cost: 10_000)])
            let b1 = Self.batch(1, agent: "b", [Self.cell(minute: 1, key: "k", team: "ml", cost: 7)])
            let group = try [a1, a1, a3, b1].map { try store.prepare(RawUsageBatch($0)) }
            let outcomes = store.commit(group).map { try? $0.get().outcome }
            #expect(outcomes == [.applied, .duplicate(lastSeq: 1), .gap(expected: 2), .applied])
            #expect(try Self.total(store).cost.value == 107)
            #expect(try store.lastSeq(agentID: "a") == 1)
        }
    }

    @Test func aMalformedBatchIsRefusedWhole() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            var raw = try RawUsageBatch(Self.batch(1, (0..<5).map { Self.cell(minute: 1, key: "k\($0)", team: "ml", cost: 1) }))
            raw.encoded = raw.encoded.dropLast(3)
            #expect(throws: WireError.self) { try store.prepare(raw) }
            #expect(try Self.total(store).requests == 0)
            #expect(try store.lastSeq(agentID: "agent-1") == 0)
        }
    }

    @Test func budgetsChangedBetweenPrepareAndCommitCountTheBatchExactlyOnce() throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let now: Int64 = 1_000 * 60
            let doomed = Budget(id: "doomed", selector: try BudgetSelector(parsing: "team=ml"), unit: .usd, limit: 1, period: .day)
            _ = try store.setBudget(doomed, now: now)
            let prepared = try store.prepare(RawUsageBatch(Self.batch(1, [Self.cell(minute: 1_000, key: "k", team: "ml", cost: 300)])))
            // After prepare: one budget goes, one arrives (its recount cannot see the batch yet).
            #expect(try store.removeBudget(id: "doomed"))
            let fresh = Budget(id: "fresh", selector: try BudgetSelector(parsing: "team=ml"), unit: .usd, limit: 1, period: .day)
            _ = try store.setBudget(fresh, now: now)
            var spend: [BudgetSpend] = []
            #expect(try store.commit(prepared, budgetSpend: &spend) == .applied)
            #expect(spend.map(\.budgetID) == ["fresh"])
            #expect(try store.spent(budgetID: "fresh", windowStart: 0) == 300)
            // Removed and set again: recounted from the cells, not from a stale cache.
            #expect(try store.removeBudget(id: "fresh"))
            _ = try store.setBudget(fresh, now: now)
            #expect(try store.spent(budgetID: "fresh", windowStart: 0) == 300)
        }
    }

    /// Spend per budget computed the slow, obvious way from the cells.
    static func expectedSpend(_ budgets: [Budget], _ cells: [Cell]) -> [String: Int64] {
        var spend: [String: Int64] = [:]
        for budget in budgets {
            spend[budget.id] = cells.filter { budget.selector.matches($0.key.dimensions) }
                .reduce(0) { $0 + budget.unit.amount(of: $1.counters) }
        }
        return spend
    }

    @Test(arguments: [20, 70])
    func compiledBudgetMatchingAgreesWithTheSelectors(budgetCount: Int) throws {
        try withTemporaryDirectory { directory in
            let store = try UsageStore(directory: directory)
            let teams = ["ml", "web", "data"]
            let models = ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"]
            let budgets = try (0..<budgetCount).map { index in
                let selector = switch index % 6 {
                case 0: "*"
                case 1: "team=\(teams[index % 3])"
                case 2: "model=\(models[index % 3]),team=\(teams[(index / 3) % 3])"
                case 3: "env=ci,model=\(models[index % 3])"
                case 4: "key=k\(index % 9)"
                default: "team=nobody"
                }
                return Budget(id: "b\(index)", selector: try BudgetSelector(parsing: selector), unit: BudgetUnit.allCases[index % 3],
                              limit: 1_000_000, period: .day)
            }
            for budget in budgets { _ = try store.setBudget(budget, now: 60_000) }
            let cells = (0..<300).map { (index: Int) -> Cell in
                let minute = 1_000 + Int64(index % 2)
                return Self.cell(minute: minute, key: "k\(index % 9)", team: teams[index % 3], model: models[(index / 3) % 3], cost: Int64(index + 1))
            }
            #expect(try store.apply(Self.batch(1, cells)) == .applied)
            let expected = Self.expectedSpend(budgets, cells)
            for budget in budgets {
                #expect(try store.spent(budgetID: budget.id, windowStart: 0) == expected[budget.id], "\(budget.id): \(budget.selector)")
            }
            #expect(expected.values.contains(0) && expected.values.contains { $0 > 0 })
        }
    }
}

@Suite struct SerialStageTests {
    @Test func processesEverythingInOrderInGroupsNoLargerThanTheQueue() {
        let seen = Mutex<[[Int]]>([])
        let stage = SerialStage<Int>(name: "test-stage", capacity: 3) { items in
            Thread.sleep(forTimeInterval: 0.002)
            seen.withLock { $0.append(items) }
        }
        for item in 0..<50 { stage.submit(item) }
        stage.finish()
        let groups = seen.withLock { $0 }
        #expect(groups.flatMap { $0 } == Array(0..<50))
        #expect(groups.allSatisfy { $0.count <= 3 })
        // The producer outran the 2 ms consumer, so groups formed.
        #expect(groups.count < 50)
    }
}
