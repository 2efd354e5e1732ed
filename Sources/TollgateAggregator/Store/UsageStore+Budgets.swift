import Foundation
import TollgateCore

/// What `setBudget` did.
public enum BudgetChange: Equatable, Sendable {
    case created
    /// `recomputed`: the selector, unit, period or zone changed, so the current window's
    /// spend was recounted from the usage cells.
    case updated(recomputed: Bool)
    case unchanged
}

/// Budget definitions, exemptions, spend and alert marks: everything in RocksDB, with the
/// definitions mirrored in memory so the ingest path never reads them from disk.
extension UsageStore {
    /// Creates or replaces a budget. A new budget, or one whose selector, unit, period or
    /// zone changed, gets its current window's spend recounted from the usage cells of that
    /// window (older windows are not kept for it), so its status is right at once. This
    /// holds the writer lock for the scan: ingest waits, and no batch is counted twice or missed.
    public func setBudget(_ budget: Budget, now: Int64) throws -> BudgetChange {
        try budget.validate()
        writer.lock()
        defer { writer.unlock() }
        let previous = definitions.withLock { stored[budget.id] }
        let needsRecount = previous.map { old in
            old.budget.selector != budget.selector || old.budget.unit != budget.unit
                || old.budget.period != budget.period || old.budget.timeZone != budget.timeZone
        } ?? true
        if previous?.budget == budget { return .unchanged }

        let writes = WriteBatch()
        writes.put(key: BudgetKeyCodec.budgetKey(budget.id), value: try Self.json(budget))
        var recounted: Int64 = 0
        if needsRecount {
            deleteAll(BudgetKeyCodec.spendPrefix, of: budget.id, in: writes)
            let window = budget.period.window(containing: now, timeZone: budget.zone)
            recounted = try recount(budget, in: window)
            writes.put(key: BudgetKeyCodec.spendKey(budget.id, windowStart: window.start), value: BudgetKeyCodec.encodeAmount(recounted))
        }
        try db.write(writes, sync: true)
        if needsRecount {
            forgetSpend(of: budget.id)
            let window = budget.period.window(containing: now, timeZone: budget.zone)
            spendCache[SpendSlot(budgetID: budget.id, windowStart: window.start)] = recounted
        }
        definitions.withLock {
            let exemptions = previous?.exemptions ?? removedExemptions.removeValue(forKey: budget.id) ?? []
            stored[budget.id] = StoredBudget(budget: budget, exemptions: exemptions)
            rebuildActive()
        }
        _ = bumpGeneration()
        return previous == nil ? .created : .updated(recomputed: needsRecount)
    }

    /// Removes a budget with its spend counters and alert marks; its exemptions stay (audit
    /// trail). Returns false if there was no such budget.
    public func removeBudget(id: String) throws -> Bool {
        writer.lock()
        defer { writer.unlock() }
        guard definitions.withLock({ stored[id] }) != nil else { return false }
        let writes = WriteBatch()
        writes.delete(key: BudgetKeyCodec.budgetKey(id))
        deleteAll(BudgetKeyCodec.spendPrefix, of: id, in: writes)
        deleteAll(BudgetKeyCodec.alertPrefix, of: id, in: writes)
        try db.write(writes, sync: true)
        forgetSpend(of: id)
        definitions.withLock {
            if let removed = stored.removeValue(forKey: id), !removed.exemptions.isEmpty {
                removedExemptions[id] = removed.exemptions
            }
            rebuildActive()
        }
        _ = bumpGeneration()
        return true
    }

    /// Records an exemption for an existing budget (never edited or deleted afterwards).
    public func addExemption(_ exemption: BudgetExemption) throws {
        try exemption.validate()
        writer.lock()
        defer { writer.unlock() }
        guard definitions.withLock({ stored[exemption.budgetID] }) != nil else {
            throw BudgetStoreError.noSuchBudget(exemption.budgetID)
        }
        let key = BudgetKeyCodec.exemptionKey(exemption, nonce: UInt64.random(in: 0...UInt64.max))
        let writes = WriteBatch()
        writes.put(key: key, value: try Self.json(exemption))
        try db.write(writes, sync: true)
        definitions.withLock { stored[exemption.budgetID]?.exemptions.append(exemption) }
        _ = bumpGeneration()
    }

    /// Every budget, by id.
    public func budgets() -> [StoredBudget] {
        definitions.withLock { stored.values.sorted { $0.budget.id < $1.budget.id } }
    }

    public func budget(id: String) -> StoredBudget? {
        definitions.withLock { stored[id] }
    }

    /// The audit trail of `id`, including a removed budget's.
    public func exemptions(budgetID id: String) -> [BudgetExemption] {
        definitions.withLock { stored[id]?.exemptions ?? removedExemptions[id] ?? [] }
    }

    /// Spend of budget `id` in the window starting at `windowStart`; 0 if nothing was counted.
    public func spent(budgetID id: String, windowStart: Int64) throws -> Int64 {
        try writer.withLock { try storedSpend(SpendSlot(budgetID: id, windowStart: windowStart)) }
    }

    /// Marks an alert level as fired for a budget's window; true only the first time, so
    /// each alert fires once per budget, level and window, across restarts too.
    public func markAlertFired(budgetID id: String, windowStart: Int64, level: Int, at now: Int64) throws -> Bool {
        writer.lock()
        defer { writer.unlock() }
        let key = BudgetKeyCodec.alertKey(id, windowStart: windowStart, level: level)
        if try db.get(key) != nil { return false }
        let writes = WriteBatch()
        writes.put(key: key, value: BudgetKeyCodec.encodeAmount(now))
        try db.write(writes, sync: true)
        return true
    }

    // MARK: - Internals

    func loadBudgets() throws {
        var budgets: [String: StoredBudget] = [:]
        let decoder = JSONDecoder()
        let (lower, upper) = BudgetKeyCodec.range(BudgetKeyCodec.budgetPrefix)
        try db.scan(from: lower, to: upper) { key, value in
            let budget: Budget
            do {
                budget = try decoder.decode(Budget.self, from: Data(value))
            } catch {
                throw StoreError.corruptValue(reason: "a budget definition is not valid JSON (\(error))", key: key)
            }
            budgets[budget.id] = StoredBudget(budget: budget, exemptions: [])
        }
        var orphans: [String: [BudgetExemption]] = [:]
        let (exemptionsLower, exemptionsUpper) = BudgetKeyCodec.range(BudgetKeyCodec.exemptionPrefix)
        try db.scan(from: exemptionsLower, to: exemptionsUpper) { key, value in
            let exemption: BudgetExemption
            do {
                exemption = try decoder.decode(BudgetExemption.self, from: Data(value))
            } catch {
                throw StoreError.corruptValue(reason: "a budget exemption is not valid JSON (\(error))", key: key)
            }
            if budgets[exemption.budgetID] != nil {
                budgets[exemption.budgetID]?.exemptions.append(exemption)
            } else {
                orphans[exemption.budgetID, default: []].append(exemption)
            }
        }
        definitions.withLock {
            stored = budgets
            removedExemptions = orphans
            rebuildActive()
        }
    }

    /// Call with `definitions` held.
    private func rebuildActive() {
        activeGeneration &+= 1
        active = stored.values.sorted { $0.budget.id < $1.budget.id }.map { entry in
            let budget = entry.budget
            let ruleKey = "\(budget.period.rawValue) \(budget.timeZone)"
            let rule: WindowRule
            if let existing = windowRules[ruleKey] {
                rule = existing
            } else {
                rule = WindowRule(period: budget.period, zone: budget.zone)
                windowRules[ruleKey] = rule
            }
            return ActiveBudget(id: budget.id, selector: budget.selector, unit: budget.unit, rule: rule)
        }
    }

    /// The budget's spend in `window`, summed from the usage cells as a usage query reads
    /// them: hour and day cells for the complete hours and days, minute cells for the rest,
    /// each compared in place. Decoding every minute cell of the window took about a second
    /// per budget change with a day of 300,000 cells, all of it with `writer` held (every
    /// commit waiting); the sums are the same, since rollups are exact. Called with `writer`
    /// held, so no batch commits between this reading and the budget becoming active.
    private func recount(_ budget: Budget, in window: BudgetWindow) throws -> Int64 {
        let minutes = window.minutes
        let filters = budget.selector.conditions.map { UsageFilter($0.dimension, $0.value) }
        return try query(fromMinute: minutes.lowerBound, toMinute: minutes.upperBound, groupBy: [], matching: filters)
            .reduce(0) { $0 &+ budget.unit.amount(of: $1.counters) }
    }

    /// Call with `writer` held, after the budget's spend keys were deleted or replaced.
    private func forgetSpend(of id: String) {
        spendCache = spendCache.filter { $0.key.budgetID != id }
    }

    /// One range tombstone: nothing is read for it while `writer` is held (a scan would
    /// open an iterator, which sorts a copy of the vector memtable).
    private func deleteAll(_ prefix: UInt8, of id: String, in writes: WriteBatch) {
        let (lower, upper) = BudgetKeyCodec.range(prefix, id)
        writes.deleteRange(from: lower, to: upper)
    }

    private static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }
}

/// Budget operations refused by the store.
public enum BudgetStoreError: Error, CustomStringConvertible, Equatable {
    case noSuchBudget(String)

    public var description: String {
        switch self {
        case .noSuchBudget(let id): "no budget '\(id)'; `tollgate budget list` shows the budgets that exist"
        }
    }
}
